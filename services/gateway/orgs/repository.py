"""Queries of organizations, their team, invitations, integrations, billing
and audit log. Nothing here commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import (
    AuditEntry,
    BillingProfile,
    Integration,
    Invitation,
    Membership,
    Organization,
    User,
)


async def membership(
    db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    return await db.get(Membership, (org_id, user_id))


async def organization(db: AsyncSession, org_id: uuid.UUID) -> Organization | None:
    return await db.get(Organization, org_id)


async def organizations_of(
    db: AsyncSession, user_id: uuid.UUID
) -> list[tuple[Organization, str]]:
    """The user's organizations and role in each (needs the user scope)."""
    rows = await db.execute(
        select(Organization, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.created_at)
    )
    return [(row[0], row[1]) for row in rows]


async def instagram_account_taken(db: AsyncSession, account_id: str) -> bool:
    found = await db.scalar(
        select(Organization.id).where(Organization.instagram_account_id == account_id)
    )
    return found is not None


async def lock_organization(db: AsyncSession, org_id: uuid.UUID) -> None:
    """Hold the organization's row until the transaction ends.

    Team changes take this lock first, so two admins demoting each other at
    the same moment cannot leave the organization without an admin.
    """
    await db.execute(
        select(Organization.id).where(Organization.id == org_id).with_for_update()
    )


async def membership_for_change(
    db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    """The membership as stored now, even if this session read it earlier."""
    found: Membership | None = await db.scalar(
        select(Membership)
        .where(Membership.org_id == org_id, Membership.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    return found


async def members(
    db: AsyncSession, org_id: uuid.UUID, only: uuid.UUID | None = None
) -> list[tuple[Membership, User]]:
    """The organization's members and their accounts, or just the one asked."""
    statement = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org_id)
    )
    if only is not None:
        statement = statement.where(Membership.user_id == only)
    rows = await db.execute(statement.order_by(Membership.created_at, User.id))
    return [(row[0], row[1]) for row in rows]


async def admin_count(db: AsyncSession, org_id: uuid.UUID) -> int:
    count = await db.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.org_id == org_id, Membership.role == "admin")
    )
    return int(count or 0)


async def member_by_email(
    db: AsyncSession, org_id: uuid.UUID, email: str
) -> Membership | None:
    found: Membership | None = await db.scalar(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org_id, User.email == email)
    )
    return found


def _pending(now: datetime) -> ColumnElement[bool]:
    return and_(
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )


async def pending_invitations(
    db: AsyncSession, org_id: uuid.UUID, now: datetime
) -> list[Invitation]:
    rows = await db.scalars(
        select(Invitation)
        .where(Invitation.org_id == org_id, _pending(now))
        .order_by(Invitation.created_at.desc())
    )
    return list(rows)


async def pending_invitations_for(
    db: AsyncSession, org_id: uuid.UUID, email: str, now: datetime
) -> list[Invitation]:
    rows = await db.scalars(
        select(Invitation).where(
            Invitation.org_id == org_id, Invitation.email == email, _pending(now)
        )
    )
    return list(rows)


async def invitation(
    db: AsyncSession, org_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation | None:
    found: Invitation | None = await db.scalar(
        select(Invitation).where(
            Invitation.org_id == org_id, Invitation.id == invitation_id
        )
    )
    return found


async def invitation_by_hash(
    db: AsyncSession, org_id: uuid.UUID, token_hash: bytes
) -> Invitation | None:
    """The invitation with this token, locked so that it is accepted once."""
    found: Invitation | None = await db.scalar(
        select(Invitation)
        .where(Invitation.org_id == org_id, Invitation.token_hash == token_hash)
        .with_for_update()
    )
    return found


async def integrations(db: AsyncSession, org_id: uuid.UUID) -> list[Integration]:
    rows = await db.scalars(select(Integration).where(Integration.org_id == org_id))
    return list(rows)


async def integration(
    db: AsyncSession, org_id: uuid.UUID, provider: str
) -> Integration | None:
    found: Integration | None = await db.scalar(
        select(Integration).where(
            Integration.org_id == org_id, Integration.provider == provider
        )
    )
    return found


async def billing_profile(db: AsyncSession, org_id: uuid.UUID) -> BillingProfile | None:
    return await db.get(BillingProfile, org_id)


async def audit_entries(
    db: AsyncSession,
    org_id: uuid.UUID,
    *,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[AuditEntry]:
    """Entries newest first, those strictly older than ``before`` if given."""
    statement = select(AuditEntry).where(AuditEntry.org_id == org_id)
    if before is not None:
        statement = statement.where(
            tuple_(AuditEntry.created_at, AuditEntry.id) < tuple_(*before)
        )
    rows = await db.scalars(
        statement.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(
            limit
        )
    )
    return list(rows)
