"""The audit log: who did what in an organization, and when. No secrets, no
message text, no contact data: actions, ids and times."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.models import AuditEntry, Membership
from services.gateway.orgs import repository
from services.gateway.orgs.errors import InvalidCursor
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
    API_TOKEN_REVOKED = "api_token_revoked"
    INTEGRATION_CONNECTED = "integration_connected"
    INTEGRATION_DISCONNECTED = "integration_disconnected"
    MEMBER_INVITED = "member_invited"
    INVITATION_REVOKED = "invitation_revoked"
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


def encode_cursor(entry: AuditEntry) -> str:
    """A cursor that resumes the log just after ``entry``."""
    position = f"{entry.created_at.isoformat()}|{entry.id}"
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; 400 for anything this API did not give."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, _, entry_id = base64.urlsafe_b64decode(padded).decode().partition("|")
        position = datetime.fromisoformat(moment), uuid.UUID(entry_id)
    except ValueError:
        raise InvalidCursor() from None
    if position[0].tzinfo is None:
        raise InvalidCursor()
    return position


async def page(
    db: AsyncSession, org_id: uuid.UUID, *, cursor: str | None, limit: int
) -> tuple[list[AuditEntry], str | None]:
    """Up to ``limit`` entries newest first, and the cursor of the next page.

    The position is the entry's time and id, so entries written while a
    reader pages through never shift or repeat what it sees.
    """
    before = decode_cursor(cursor) if cursor else None
    rows = await repository.audit_entries(db, org_id, before=before, limit=limit + 1)
    entries = rows[:limit]
    more = len(rows) > limit
    return entries, encode_cursor(entries[-1]) if more else None
