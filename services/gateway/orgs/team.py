"""The team: who is in an organization, with which role.

Membership is read on every request, so a change here counts from that
person's very next request. An organization always keeps one admin.
"""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import Membership, User
from services.gateway.orgs import audit, repository
from services.gateway.orgs.audit import AuditAction
from services.gateway.orgs.errors import LastAdmin, MemberNotFound
from services.gateway.orgs.schemas import MemberRead
from shared.identity import Role


async def members(db: AsyncSession, org_id: uuid.UUID) -> list[MemberRead]:
    return [_read(*found) for found in await repository.members(db, org_id)]


async def member(db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID) -> MemberRead:
    found = await repository.members(db, org_id, only=user_id)
    if not found:
        raise MemberNotFound()
    return _read(*found[0])


def _read(membership: Membership, user: User) -> MemberRead:
    return MemberRead(
        user_id=user.id,
        name=user.name,
        email=user.email,
        role=cast(Role, membership.role),
        two_factor_enabled=user.totp_enabled_at is not None,
        joined_at=membership.created_at,
    )


async def change_role(
    db: AsyncSession,
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    role: Role,
    *,
    by: uuid.UUID | None,
) -> None:
    """Give a member another role; the last admin keeps theirs."""
    membership = await _locked_membership(db, org_id, user_id)
    if membership.role == role:
        return
    if membership.role == "admin":
        await _keep_an_admin(db, org_id)

    previous, membership.role = membership.role, role
    await db.flush()
    audit.record(
        db,
        org_id,
        AuditAction.MEMBER_ROLE_CHANGED,
        actor=by,
        user_id=str(user_id),
        role=role,
        previous_role=previous,
    )


async def remove(
    db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID, *, by: uuid.UUID | None
) -> None:
    """Take a member out of the organization, or let them leave."""
    membership = await _locked_membership(db, org_id, user_id)
    if membership.role == "admin":
        await _keep_an_admin(db, org_id)

    await db.delete(membership)
    await db.flush()
    audit.record(
        db,
        org_id,
        AuditAction.MEMBER_REMOVED,
        actor=by,
        user_id=str(user_id),
        left=by == user_id,
    )


async def _locked_membership(
    db: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> Membership:
    await repository.lock_organization(db, org_id)
    membership = await repository.membership_for_change(db, org_id, user_id)
    if membership is None:
        raise MemberNotFound()
    return membership


async def _keep_an_admin(db: AsyncSession, org_id: uuid.UUID) -> None:
    if await repository.admin_count(db, org_id) <= 1:
        raise LastAdmin()
