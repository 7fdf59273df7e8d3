"""Accounts: who may sign in, with what, and which sessions stay open.

Nothing here knows HTTP or commits; routes call these functions inside the
request's unit of work.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.accounts import repository, two_factor
from services.gateway.accounts.cookies import TOKEN_BYTES, token_hash
from services.gateway.accounts.errors import (
    CurrentPasswordWrong,
    EmailTaken,
    InvalidCredentials,
    InvalidSecondFactor,
    SecondFactorRequired,
)
from services.gateway.accounts.passwords import PasswordHasher, check_password_policy
from services.gateway.accounts.throttle import LoginThrottle
from services.gateway.models import TOTP_SECRET, LoginSession, User
from shared.crypto.keyring import KeyRing

# A session's last-seen time is written at most this often, not every request.
_TOUCH_INTERVAL = timedelta(minutes=1)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta


@dataclass(frozen=True)
class SecondFactor:
    code: str | None = None
    recovery_code: str | None = None


async def sign_up(
    db: AsyncSession, hasher: PasswordHasher, *, name: str, email: str, password: str
) -> User:
    email = normalise_email(email)
    check_password_policy(password, email=email)
    if await repository.user_by_email(db, email) is not None:
        raise EmailTaken()
    user = User(
        name=name.strip(), email=email, password_hash=await hasher.hash(password)
    )
    db.add(user)
    await db.flush()
    return user


async def sign_in(
    db: AsyncSession,
    hasher: PasswordHasher,
    throttle: LoginThrottle,
    master_keys: KeyRing,
    *,
    email: str,
    password: str,
    address: str,
    second_factor: SecondFactor,
) -> User:
    """The user these credentials prove, or an error that tells nothing more.

    An unknown email and a wrong password fail alike, in the same time.
    """
    email = normalise_email(email)
    await throttle.check(email, address)
    user = await repository.user_by_email(db, email)
    matches, upgraded = await hasher.verify(
        password, user.password_hash if user else None
    )
    if user is None or not matches:
        await throttle.record_failure(email, address)
        raise InvalidCredentials()
    if upgraded:
        user.password_hash = upgraded
    if user.totp_enabled_at is not None:
        await _check_second_factor(db, user, master_keys, second_factor)
    await throttle.reset(email)
    return user


async def confirm_identity(
    db: AsyncSession,
    hasher: PasswordHasher,
    master_keys: KeyRing,
    user: User,
    *,
    password: str,
    second_factor: SecondFactor,
) -> None:
    """Check that a signed-in person re-entered their password, and their
    second factor when they have one, before something that cannot be undone."""
    matches, _ = await hasher.verify(password, user.password_hash)
    if not matches:
        raise CurrentPasswordWrong()
    if user.totp_enabled_at is not None:
        await _check_second_factor(db, user, master_keys, second_factor)


async def _check_second_factor(
    db: AsyncSession, user: User, master_keys: KeyRing, given: SecondFactor
) -> None:
    if given.code:
        secret = totp_secret(user, master_keys)
        step = two_factor.accepted_step(
            secret, given.code, last_step=user.totp_last_step
        )
        if step is None:
            raise InvalidSecondFactor()
        user.totp_last_step = step
        return
    if given.recovery_code:
        await use_recovery_code(db, user, given.recovery_code)
        return
    raise SecondFactorRequired()


async def use_recovery_code(db: AsyncSession, user: User, code: str) -> None:
    """Spend one recovery code; each works once."""
    wanted = two_factor.recovery_code_hash(code)
    for stored in await repository.unused_recovery_codes(db, user.id):
        if secrets.compare_digest(stored.code_hash, wanted):
            stored.used_at = utcnow()
            return
    raise InvalidSecondFactor()


def totp_secret(user: User, master_keys: KeyRing) -> str:
    assert user.totp_secret is not None
    return TOTP_SECRET.open(master_keys, user.totp_secret, user.id).decode()


async def open_session(
    db: AsyncSession, user: User, *, user_agent: str, policy: SessionPolicy
) -> tuple[LoginSession, bytes]:
    """A new session, with a new id and token, for a user who just signed in."""
    token = secrets.token_bytes(TOKEN_BYTES)
    now = utcnow()
    session = LoginSession(
        id=uuid.uuid4(),
        user_id=user.id,
        token_hash=token_hash(token),
        user_agent=user_agent[:200],
        created_at=now,
        last_seen_at=now,
        expires_at=now + policy.lifetime,
    )
    db.add(session)
    await db.flush()
    return session, token


async def find_session(
    db: AsyncSession,
    token: bytes,
    policy: SessionPolicy,
    org_id: uuid.UUID | None = None,
) -> repository.LiveSession | None:
    """The live session of ``token`` (with the user's membership of ``org_id``
    when given), its last-seen time brought up to date."""
    now = utcnow()
    found = await repository.live_session(
        db, token_hash(token), now=now, idle_since=now - policy.idle, org_id=org_id
    )
    if found is not None and now - found.session.last_seen_at > _TOUCH_INTERVAL:
        found.session.last_seen_at = now
    return found


async def change_password(
    db: AsyncSession,
    hasher: PasswordHasher,
    user: User,
    *,
    current_session: uuid.UUID,
    current_password: str,
    new_password: str,
) -> int:
    """Set a new password and end every other session of the user."""
    matches, _ = await hasher.verify(current_password, user.password_hash)
    if not matches:
        raise CurrentPasswordWrong()
    check_password_policy(new_password, email=user.email)
    user.password_hash = await hasher.hash(new_password)
    user.password_changed_at = utcnow()
    return await repository.end_sessions(
        db, user.id, now=utcnow(), keep=current_session
    )
