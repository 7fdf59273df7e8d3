"""HTTP routes of the contacts service, all under ``/api/orgs/{org_id}/``.

Another organization's ids answer 404, as ids that do not exist do.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import AwareDatetime, JsonValue
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import SPEC, properties, sending, service
from services.contacts.errors import PropertyFilterIncomplete
from services.contacts.properties import PropertyMatch
from services.contacts.repository import ContactFilters
from services.contacts.schemas import (
    ContactPage,
    ContactProfile,
    ContactSort,
    ContactUpdate,
    MessageCreate,
    MessagePage,
    MessageSent,
    PropertyCreate,
    PropertyRead,
    PropertyValueWrite,
    SentPart,
    TagCreate,
    TagRead,
)
from services.contacts.sending.errors import (
    REFUSAL_MESSAGES,
    SendFailed,
    SendRefused,
    SendUnconfirmed,
)
from shared.crypto.data_keys import DataKey, get_or_create_data_key
from shared.deps import CurrentIdentity, OrgSession, get_runtime
from shared.errors import NotFound

router = APIRouter(prefix="/api/orgs/{org_id}")


async def org_data_key(org_id: uuid.UUID, request: Request, db: OrgSession) -> DataKey:
    """The organization's data key, for the personal data a request reads or
    writes."""
    master_keys = get_runtime(request).secrets.master_keys
    return await get_or_create_data_key(db, SPEC.schema, org_id, master_keys)


OrgDataKey = Annotated[DataKey, Depends(org_data_key)]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=500)]


@router.get("/contacts")
async def list_contacts(
    org_id: uuid.UUID,
    request: Request,
    db: OrgSession,
    search: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    opted_out: bool | None = None,
    tag: uuid.UUID | None = None,
    interacted_after: AwareDatetime | None = None,
    interacted_before: AwareDatetime | None = None,
    property_key: Annotated[str | None, Query(alias="property", max_length=50)] = None,
    property_value: Annotated[str | None, Query(max_length=1000)] = None,
    sort: ContactSort = "-last_interaction_at",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ContactPage:
    """The organization's contacts, a page at a time.

    ``search`` matches part of the username or name, in any case.
    ``property`` with ``property_value`` keeps the contacts whose value of
    that custom property is exactly this (or, for multiple choice, includes
    it). Pass the ``next_cursor`` of a page as ``cursor``, with the same sort
    and filters, for the next one; it is null on the last page.
    """
    match = None
    if property_key is not None or property_value is not None:
        match = await _property_match(request, db, org_id, property_key, property_value)
    filters = ContactFilters(
        search=search,
        opted_out=opted_out,
        tag_id=tag,
        interacted_after=interacted_after,
        interacted_before=interacted_before,
        property_match=match,
    )
    return await service.list_contacts(db, org_id, filters, sort, cursor, limit)


async def _property_match(
    request: Request,
    db: AsyncSession,
    org_id: uuid.UUID,
    key: str | None,
    value: str | None,
) -> PropertyMatch:
    if key is None or value is None:
        raise PropertyFilterIncomplete()
    data_key = await org_data_key(org_id, request, db)
    return await properties.match(db, data_key, key, value)


@router.get("/contacts/{contact_id}")
async def get_contact(
    contact_id: uuid.UUID, db: OrgSession, data_key: OrgDataKey
) -> ContactProfile:
    """The contact's profile, tags, custom properties, opt-out state and its
    history."""
    return await service.profile(db, data_key, contact_id)


@router.patch("/contacts/{contact_id}")
async def update_contact(
    contact_id: uuid.UUID,
    change: ContactUpdate,
    db: OrgSession,
    data_key: OrgDataKey,
    identity: CurrentIdentity,
) -> ContactProfile:
    """Give the contact a name of your own, or opt them out or back in.

    An opt-out change made here is recorded as manual, or as made through
    the API when the API token made it.
    """
    return await service.update_contact(
        db, data_key, contact_id, change, identity.user_id
    )


@router.get("/contacts/{contact_id}/messages")
async def list_messages(
    org_id: uuid.UUID,
    contact_id: uuid.UUID,
    db: OrgSession,
    data_key: OrgDataKey,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessagePage:
    """The conversation with the contact, newest message first."""
    return await service.conversation(db, data_key, org_id, contact_id, cursor, limit)


@router.post("/contacts/{contact_id}/messages", status_code=status.HTTP_201_CREATED)
async def send_message(
    org_id: uuid.UUID,
    contact_id: uuid.UUID,
    message: MessageCreate,
    request: Request,
    identity: CurrentIdentity,
) -> MessageSent:
    """Reply to the contact by hand, through Instagram.

    It counts as a person's reply: automations and the AI agent stay out of
    the conversation from then on. Past the 24 hours after the contact last
    wrote, and up to 7 days, it goes with Meta's human-agent tag. A refusal
    answers 409 ``send_refused`` with its reason in ``details``; Meta not
    taking it answers 502 ``send_failed``.
    """
    if identity.org_id != org_id:
        raise NotFound()
    outbound = sending.Outbound(
        org_id=org_id,
        contact_id=contact_id,
        text=message.text,
        sender_kind="person",
        by_user_id=identity.user_id,
        message_id=message.id or uuid.uuid4(),
        split=message.split,
    )
    outcomes = await sending.send(get_runtime(request), outbound)
    return _sent_or_raise(outcomes)


def _sent_or_raise(outcomes: list[sending.SendOutcome]) -> MessageSent:
    last = outcomes[-1]
    details = [{"reason": last.reason, "sent_parts": len(outcomes) - 1}]
    if last.state == "refused":
        message = REFUSAL_MESSAGES.get(last.reason or "")
        raise SendRefused(message, details=details)
    if last.state == "failed":
        raise SendFailed(details=details)
    if last.state == "unconfirmed":
        raise SendUnconfirmed(details=details)
    return MessageSent(
        items=[
            SentPart(
                id=each.message_id,
                instagram_message_id=each.instagram_message_id or "",
                tag=each.tag,
            )
            for each in outcomes
        ]
    )


@router.put("/contacts/{contact_id}/tags/{tag_id}")
async def tag_contact(
    org_id: uuid.UUID, contact_id: uuid.UUID, tag_id: uuid.UUID, db: OrgSession
) -> list[TagRead]:
    """Put the tag on the contact; the contact's tags."""
    return await service.tag_contact(db, org_id, contact_id, tag_id)


@router.delete("/contacts/{contact_id}/tags/{tag_id}")
async def untag_contact(
    org_id: uuid.UUID, contact_id: uuid.UUID, tag_id: uuid.UUID, db: OrgSession
) -> list[TagRead]:
    """Take the tag off the contact; the contact's tags."""
    return await service.untag_contact(db, org_id, contact_id, tag_id)


@router.get("/tags")
async def list_tags(org_id: uuid.UUID, db: OrgSession) -> list[TagRead]:
    """The organization's tags, by name."""
    return await service.list_tags(db, org_id)


@router.post("/tags", status_code=status.HTTP_201_CREATED)
async def create_tag(org_id: uuid.UUID, tag: TagCreate, db: OrgSession) -> TagRead:
    """A new tag; a name already in use answers 409."""
    return await service.create_tag(db, org_id, tag.name)


@router.delete("/tags/{tag_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_tag(org_id: uuid.UUID, tag_id: uuid.UUID, db: OrgSession) -> None:
    """Delete the tag and take it off every contact."""
    await service.delete_tag(db, org_id, tag_id)


@router.put("/contacts/{contact_id}/properties/{key}")
async def set_property_value(
    contact_id: uuid.UUID,
    key: str,
    change: PropertyValueWrite,
    db: OrgSession,
    data_key: OrgDataKey,
) -> dict[str, JsonValue]:
    """Set the contact's value of a custom property (null removes it); the
    contact's values. A value that does not fit the property answers 422."""
    return await properties.set_value(db, data_key, contact_id, key, change.value)


@router.get("/properties")
async def list_properties(org_id: uuid.UUID, db: OrgSession) -> list[PropertyRead]:
    """The organization's custom properties, by key."""
    return await properties.list_definitions(db, org_id)


@router.post("/properties", status_code=status.HTTP_201_CREATED)
async def create_property(
    org_id: uuid.UUID, new: PropertyCreate, db: OrgSession
) -> PropertyRead:
    """A new custom property; a key already in use answers 409."""
    return await properties.create_definition(db, org_id, new)


@router.delete("/properties/{property_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_property(
    org_id: uuid.UUID, property_id: uuid.UUID, db: OrgSession
) -> None:
    """Delete the custom property and every contact's value of it."""
    await properties.delete_definition(db, org_id, property_id)
