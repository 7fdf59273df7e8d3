"""Queries of organizations and memberships. Nothing here commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import Membership, Organization


async def membership(
    db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    return await db.get(Membership, (org_id, user_id))


async def membership_in(
    db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Membership, Organization] | None:
    """The user's membership of the organization, with the organization, in
    one query: this runs on every request."""
    row = (
        await db.execute(
            select(Membership, Organization)
            .join(Organization, Organization.id == Membership.org_id)
            .where(Membership.org_id == org_id, Membership.user_id == user_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


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
