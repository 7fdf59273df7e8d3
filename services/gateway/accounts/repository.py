"""Queries of users, login sessions and recovery codes. Nothing here commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import (
    LoginSession,
    Membership,
    Organization,
    RecoveryCode,
    User,
)


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    found: User | None = await db.scalar(select(User).where(User.email == email))
    return found


async def user_by_id(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await db.get(User, user_id)


@dataclass(frozen=True)
class LiveSession:
    session: LoginSession
    user: User
    # Filled when the lookup was asked about one organization.
    membership: Membership | None = None
    organization: Organization | None = None


async def live_session(
    db: AsyncSession,
    token_hash: bytes,
    *,
    now: datetime,
    idle_since: datetime,
    org_id: uuid.UUID | None = None,
) -> LiveSession | None:
    """The session with this token if it has not ended, expired or idled out,
    and, for ``org_id``, the user's membership there: one query, since it
    runs on every request."""
    wanted: list[Any] = [LoginSession, User]
    if org_id is not None:
        wanted += [Membership, Organization]
    query = (
        select(*wanted)
        .join(User, User.id == LoginSession.user_id)
        .where(
            LoginSession.token_hash == token_hash,
            LoginSession.ended_at.is_(None),
            LoginSession.expires_at > now,
            LoginSession.last_seen_at > idle_since,
        )
    )
    if org_id is not None:
        query = query.outerjoin(
            Membership,
            (Membership.user_id == User.id) & (Membership.org_id == org_id),
        ).outerjoin(Organization, Organization.id == Membership.org_id)
    row = (await db.execute(query)).first()
    if row is None:
        return None
    found: tuple[Any, ...] = tuple(row)
    return LiveSession(*found)


async def sessions_of(db: AsyncSession, user_id: uuid.UUID) -> list[LoginSession]:
    rows = await db.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .order_by(LoginSession.created_at.desc())
    )
    return list(rows)


async def end_sessions(
    db: AsyncSession,
    user_id: uuid.UUID,
    *,
    now: datetime,
    only: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """End the user's live sessions (one of them, or all but one)."""
    statement = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
    )
    if only is not None:
        statement = statement.where(LoginSession.id == only)
    if keep is not None:
        statement = statement.where(LoginSession.id != keep)
    result = await db.execute(statement.values(ended_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def unused_recovery_codes(
    db: AsyncSession, user_id: uuid.UUID
) -> list[RecoveryCode]:
    rows = await db.scalars(
        select(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        .with_for_update()
    )
    return list(rows)


async def replace_recovery_codes(
    db: AsyncSession, user_id: uuid.UUID, hashes: list[bytes]
) -> None:
    await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in hashes)
