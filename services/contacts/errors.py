"""What can go wrong with contacts, their tags and their conversations."""

from __future__ import annotations

from shared.errors import Conflict, NotFound, OjimeError


class ContactNotFound(NotFound):
    code = "contact_not_found"
    message = "No contact of this organization has this id."


class TagNotFound(NotFound):
    code = "tag_not_found"
    message = "No tag of this organization has this id."


class TagNameTaken(Conflict):
    code = "tag_name_taken"
    message = "The organization already has a tag with this name."


class InvalidCursor(OjimeError):
    code = "invalid_cursor"
    message = "The cursor is not one this list gave out, or it was for another sort."


class ProfileFetchFailed(OjimeError):
    """Meta, or the gateway that holds the token, did not give the profile."""

    status_code = 502
    code = "profile_fetch_failed"
    message = "The contact's Instagram profile could not be fetched."


class PropertyNotFound(NotFound):
    code = "property_not_found"
    message = "The organization has no custom property with this key or id."


class PropertyKeyTaken(Conflict):
    code = "property_key_taken"
    message = "The organization already has a custom property with this key."


class PropertyValueInvalid(OjimeError):
    status_code = 422
    code = "property_value_invalid"
    message = "This value does not fit the property's type."


class PropertyFilterIncomplete(OjimeError):
    code = "property_filter_incomplete"
    message = "Filtering by a custom property needs both property and property_value."
