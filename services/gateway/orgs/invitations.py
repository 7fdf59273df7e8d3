"""Invitations: an email, a role, and a single-use link that expires.

There is no mail provider in this system. Creating an invitation answers its
link once, to the admin who made it, and that admin sends it to the person
by whatever means they like. The link's token names the organization, so it
is looked up inside that organization's row-level scope; only a hash of it
is stored.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.accounts.service import normalise_email
from services.gateway.models import Invitation, Membership, User
from services.gateway.orgs import audit, repository
from services.gateway.orgs.audit import AuditAction
from services.gateway.orgs.errors import (
    AlreadyMember,
    InvitationExpired,
    InvitationForAnotherEmail,
    InvitationNotFound,
    InvitationRevoked,
    InvitationUsed,
)
from services.gateway.orgs.org_tokens import new_org_token, organization_named
from shared.identity import Role

_PREFIX = "inv"


def token_hash(token: str) -> bytes:
    # The token holds 256 random bits, so a fast hash is enough here.
    return hashlib.sha256(token.encode()).digest()


def organization_of(token: str) -> uuid.UUID:
    """The organization an invitation token names; 404 for anything else."""
    org_id = organization_named(_PREFIX, token)
    if org_id is None:
        raise InvitationNotFound()
    return org_id


def accept_url(public_url: str, token: str) -> str:
    # In the fragment, the token never reaches a server's access log.
    return f"{public_url.rstrip('/')}/invitations/accept#token={token}"


async def invite(
    db: AsyncSession,
    org_id: uuid.UUID,
    *,
    email: str,
    role: Role,
    by: uuid.UUID | None,
    ttl: timedelta,
) -> tuple[Invitation, str]:
    """A new invitation and its token; one pending for that email is replaced."""
    email = normalise_email(email)
    if await repository.member_by_email(db, org_id, email) is not None:
        raise AlreadyMember()
    now = datetime.now(UTC)
    for older in await repository.pending_invitations_for(db, org_id, email, now):
        older.revoked_at = now

    token = new_org_token(_PREFIX, org_id)
    invitation = Invitation(
        id=uuid.uuid4(),
        org_id=org_id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=by,
        created_at=now,
        expires_at=now + ttl,
    )
    db.add(invitation)
    audit.record(
        db,
        org_id,
        AuditAction.MEMBER_INVITED,
        actor=by,
        invitation_id=str(invitation.id),
        role=role,
    )
    return invitation, token


async def revoke(
    db: AsyncSession, org_id: uuid.UUID, invitation_id: uuid.UUID, by: uuid.UUID | None
) -> None:
    """Withdraw a pending invitation; its link stops working."""
    invitation = await repository.invitation(db, org_id, invitation_id)
    if invitation is None:
        raise InvitationNotFound()
    if invitation.accepted_at is not None:
        raise InvitationUsed()
    if invitation.revoked_at is not None:
        return

    invitation.revoked_at = datetime.now(UTC)
    audit.record(
        db,
        org_id,
        AuditAction.INVITATION_REVOKED,
        actor=by,
        invitation_id=str(invitation.id),
    )


async def accept(
    db: AsyncSession, org_id: uuid.UUID, token: str, user: User
) -> Membership:
    """Join the organization as the invitation says; each link works once.

    ``db`` must be scoped to ``org_id``, the organization the token names.
    """
    invitation = await repository.invitation_by_hash(db, org_id, token_hash(token))
    if invitation is None:
        raise InvitationNotFound()
    now = datetime.now(UTC)
    _check_usable(invitation, now)
    if invitation.email != normalise_email(user.email):
        raise InvitationForAnotherEmail()
    if await repository.membership(db, org_id, user.id) is not None:
        raise AlreadyMember()

    invitation.accepted_at = now
    membership = Membership(
        org_id=org_id, user_id=user.id, role=invitation.role, created_at=now
    )
    db.add(membership)
    audit.record(
        db,
        org_id,
        AuditAction.MEMBER_JOINED,
        actor=user.id,
        invitation_id=str(invitation.id),
        role=invitation.role,
    )
    return membership


def _check_usable(invitation: Invitation, now: datetime) -> None:
    if invitation.accepted_at is not None:
        raise InvitationUsed()
    if invitation.revoked_at is not None:
        raise InvitationRevoked()
    if invitation.expires_at <= now:
        raise InvitationExpired()
