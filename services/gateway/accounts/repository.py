"""Queries of users, login sessions and recovery codes. Nothing here commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import LoginSession, RecoveryCode, User


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    found: User | None = await db.scalar(select(User).where(User.email == email))
    return found


async def user_by_id(db: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await db.get(User, user_id)


async def live_session(
    db: AsyncSession, token_hash: bytes, *, now: datetime, idle_since: datetime
) -> tuple[LoginSession, User] | None:
    """The session with this token if it has not ended, expired or idled out."""
    row = (
        await db.execute(
            select(LoginSession, User)
            .join(User, User.id == LoginSession.user_id)
            .where(
                LoginSession.token_hash == token_hash,
                LoginSession.ended_at.is_(None),
                LoginSession.expires_at > now,
                LoginSession.last_seen_at > idle_since,
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


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
