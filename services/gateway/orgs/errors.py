"""What can go wrong with organizations, their team and their connections."""

from __future__ import annotations

from shared.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    OjimeError,
    PermissionDenied,
    ServiceUnavailable,
)


class InstagramCodeRejected(OjimeError):
    code = "instagram_code_rejected"
    message = (
        "Meta did not accept this authorization code: it is wrong, used "
        "already, expired, or was issued for another redirect URI."
    )


class InstagramAccountNotFound(OjimeError):
    code = "instagram_account_not_found"
    message = (
        "None of the Facebook Pages you shared is linked to an Instagram "
        "professional account."
    )


class InstagramAccountChoiceNeeded(OjimeError):
    code = "instagram_account_choice_needed"
    message = (
        "Several Instagram accounts were shared. Sign in with Meta again and "
        "send the id of the one to connect as instagram_account_id."
    )


class InstagramAccountTaken(Conflict):
    code = "instagram_account_taken"
    message = "This Instagram account is connected to an organization already."


class MetaRefused(OjimeError):
    status_code = 502
    code = "meta_refused"
    message = "Meta refused the request; the app's Meta settings may be wrong."


class MetaUnavailable(OjimeError):
    status_code = 502
    code = "meta_unavailable"
    message = "Meta did not answer as expected. Try again in a moment."


class MetaNotConfigured(ServiceUnavailable):
    code = "meta_not_configured"
    message = "Connecting Instagram needs META_APP_ID and META_APP_SECRET."


class TwoFactorNeededFirst(Conflict):
    code = "two_factor_needed_first"
    message = "Turn on two-factor sign-in for yourself before requiring it."


class MemberNotFound(NotFound):
    code = "member_not_found"
    message = "This person is not a member of the organization."


class LastAdmin(Conflict):
    code = "last_admin"
    message = "An organization keeps at least one admin."


class AlreadyMember(Conflict):
    code = "already_member"
    message = "This person is a member of the organization already."


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    message = "No such invitation."


class InvitationUsed(OjimeError):
    status_code = 410
    code = "invitation_used"
    message = "This invitation was accepted already."


class InvitationExpired(OjimeError):
    status_code = 410
    code = "invitation_expired"
    message = "This invitation has expired; ask an admin for a new one."


class InvitationRevoked(OjimeError):
    status_code = 410
    code = "invitation_revoked"
    message = "This invitation was withdrawn by an admin."


class InvitationForAnotherEmail(PermissionDenied):
    code = "invitation_for_another_email"
    message = "This invitation was sent to another email address."


class InvalidCursor(OjimeError):
    code = "invalid_cursor"
    message = "The cursor is not one this API gave out."


class InstagramNotConnected(NotFound):
    code = "instagram_not_connected"
    message = "The organization has no Instagram connection."


class ServiceIdentityRequired(NotAuthenticated):
    code = "service_identity_required"
    message = "This path answers only services of Ojime."


class IdentityForAnotherOrganization(PermissionDenied):
    code = "identity_for_another_organization"
    message = "The service identity was signed for another organization."
