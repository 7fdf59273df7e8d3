"""The organization's API token: shown once, kept only as a keyed hash.

A token reads ``ojm_<organization id>_<43 random characters>``. Naming the
organization lets the lookup run inside that organization's row-level
scope. The hash is HMAC-SHA256 under a key derived from the master key ring;
every key of the ring is tried, so a rotation does not break tokens as long
as the old key stays in the ring.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.models import ApiToken
from services.gateway.orgs.org_tokens import new_org_token, organization_named
from shared.crypto.keyring import KeyRing
from shared.db import unit_of_work

_PREFIX = "ojm"


@lru_cache(maxsize=32)
def _hash_key(master_key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ojime api token"
    ).derive(master_key)


def token_hash(token: str, master_key: bytes) -> bytes:
    return hmac.new(_hash_key(master_key), token.encode(), hashlib.sha256).digest()


def new_token(org_id: uuid.UUID) -> str:
    return new_org_token(_PREFIX, org_id)


async def organization_of_token(
    sessions: async_sessionmaker[AsyncSession],
    master_keys: KeyRing,
    token: str,
    *,
    scoped: tuple[uuid.UUID, AsyncSession] | None = None,
) -> uuid.UUID | None:
    """The organization this token opens, or None for any other string.

    ``scoped`` is a session already inside one organization's scope; when the
    token names that organization, the lookup reuses it instead of opening a
    transaction of its own (the common case: a token used on its own paths).
    """
    org_id = organization_named(_PREFIX, token)
    if org_id is None:
        return None
    if scoped is not None and scoped[0] == org_id:
        stored = await _stored_hash(scoped[1], org_id)
    else:
        async with unit_of_work(sessions, org_id) as db:
            stored = await _stored_hash(db, org_id)
    if stored is None:
        return None
    matches = any(
        hmac.compare_digest(stored, token_hash(token, key))
        for key in master_keys.keys.values()
    )
    return org_id if matches else None


async def _stored_hash(db: AsyncSession, org_id: uuid.UUID) -> bytes | None:
    stored: bytes | None = await db.scalar(
        select(ApiToken.token_hash).where(ApiToken.org_id == org_id)
    )
    return stored


async def regenerate(
    db: AsyncSession, master_keys: KeyRing, org_id: uuid.UUID, by: uuid.UUID | None
) -> str:
    """A new token for the organization; the old one stops working at once."""
    token = new_token(org_id)
    digest = token_hash(token, master_keys.current_key)
    now = datetime.now(UTC)
    existing = await db.get(ApiToken, org_id)
    if existing is None:
        db.add(
            ApiToken(org_id=org_id, token_hash=digest, created_by=by, created_at=now)
        )
    else:
        existing.token_hash = digest
        existing.created_by = by
        existing.created_at = now
    await db.flush()
    return token


async def current(db: AsyncSession, org_id: uuid.UUID) -> ApiToken | None:
    """The organization's token row (its hash and when it was made), if any."""
    return await db.get(ApiToken, org_id)


async def revoke(db: AsyncSession, org_id: uuid.UUID) -> bool:
    """Delete the organization's token; False if it had none."""
    deleted = await db.execute(
        delete(ApiToken).where(ApiToken.org_id == org_id).returning(ApiToken.org_id)
    )
    return deleted.first() is not None
