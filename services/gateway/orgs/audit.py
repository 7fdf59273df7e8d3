"""The audit log: who did what in an organization, and when. No secrets, no
message text, no contact data: actions, ids and times."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.models import AuditEntry, Membership
from shared.db import unit_of_work


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    PASSWORD_CHANGED = "password_changed"
    SESSION_ENDED = "session_ended"
    TWO_FACTOR_ENABLED = "two_factor_enabled"
    TWO_FACTOR_DISABLED = "two_factor_disabled"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    API_TOKEN_REGENERATED = "api_token_regenerated"
    INTEGRATION_CONNECTED = "integration_connected"
    INTEGRATION_DISCONNECTED = "integration_disconnected"
    MEMBER_INVITED = "member_invited"
    MEMBER_JOINED = "member_joined"
    MEMBER_ROLE_CHANGED = "member_role_changed"
    MEMBER_REMOVED = "member_removed"
    ORGANIZATION_CONNECTED = "organization_connected"
    ORGANIZATION_SETTINGS_CHANGED = "organization_settings_changed"
    BILLING_PROFILE_CHANGED = "billing_profile_changed"
    DELETION_SCHEDULED = "deletion_scheduled"
    DELETION_CANCELLED = "deletion_cancelled"


def record(
    db: AsyncSession,
    org_id: uuid.UUID,
    action: AuditAction,
    *,
    actor: uuid.UUID | None,
    **details: str | int | bool | None,
) -> None:
    """Add an entry to ``org_id``'s log inside the caller's transaction."""
    db.add(
        AuditEntry(org_id=org_id, actor_user_id=actor, action=action, details=details)
    )


async def record_for_user(
    sessions: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    action: AuditAction,
    **details: str | int | bool | None,
) -> None:
    """Add an entry about a user to the log of every organization they are in.

    Each organization's entry is written inside that organization's own
    row-level scope, one short transaction each.
    """
    async with unit_of_work(sessions, user_id=user_id) as db:
        org_ids = list(
            await db.scalars(
                select(Membership.org_id).where(Membership.user_id == user_id)
            )
        )
    for org_id in org_ids:
        async with unit_of_work(sessions, org_id) as db:
            record(db, org_id, action, actor=user_id, **details)
