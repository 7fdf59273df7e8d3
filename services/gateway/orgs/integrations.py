"""Connections to outside services, each keeping its token sealed.

Tokens are sealed with the master key and bound to their row, so a
ciphertext copied elsewhere does not open. Nothing public ever reads one
back: only the internal path for services opens the Instagram token.
Disconnecting deletes the row, ciphertext and all.

Instagram is connected once, when the organization is made, and goes only
with the organization: its account stays mapped to it, so connecting that
account again is refused. Refreshing the token by connecting again is not
built: should Meta invalidate the Page token (the person removed the app, or
lost their role on the Page), the organization cannot reach Instagram until
that is added.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import get_args

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import INTEGRATION_TOKEN, Integration
from services.gateway.orgs import audit, repository
from services.gateway.orgs.audit import AuditAction
from services.gateway.orgs.errors import InstagramNotConnected
from services.gateway.orgs.schemas import IntegrationRead, Provider
from shared.crypto.keyring import KeyRing

PROVIDERS: tuple[Provider, ...] = get_args(Provider)


def store(
    db: AsyncSession,
    master_keys: KeyRing,
    *,
    org_id: uuid.UUID,
    provider: Provider,
    token: str,
    external_account_id: str,
    existing: Integration | None = None,
) -> Integration:
    """Seal ``token`` into the provider's row, made new or replaced."""
    row = existing or Integration(id=uuid.uuid4(), org_id=org_id, provider=provider)
    row.token_ciphertext = INTEGRATION_TOKEN.seal(master_keys, token.encode(), row.id)
    row.external_account_id = external_account_id
    row.connected_at = datetime.now(UTC)
    if existing is None:
        db.add(row)
    return row


async def connect(
    db: AsyncSession,
    master_keys: KeyRing,
    *,
    org_id: uuid.UUID,
    provider: Provider,
    token: str,
    external_account_id: str,
    by: uuid.UUID | None,
) -> Integration:
    """Connect ``provider`` with ``token``; connecting again replaces it."""
    existing = await repository.integration(db, org_id, provider)
    row = store(
        db,
        master_keys,
        org_id=org_id,
        provider=provider,
        token=token,
        external_account_id=external_account_id,
        existing=existing,
    )
    audit.record(
        db,
        org_id,
        AuditAction.INTEGRATION_CONNECTED,
        actor=by,
        provider=provider,
        replaced=existing is not None,
    )
    return row


async def disconnect(
    db: AsyncSession, org_id: uuid.UUID, provider: Provider, by: uuid.UUID | None
) -> bool:
    """Delete the provider's row and its ciphertext; False if none was there."""
    existing = await repository.integration(db, org_id, provider)
    if existing is None:
        return False
    await db.delete(existing)
    audit.record(
        db, org_id, AuditAction.INTEGRATION_DISCONNECTED, actor=by, provider=provider
    )
    return True


async def listing(db: AsyncSession, org_id: uuid.UUID) -> list[IntegrationRead]:
    """Every provider, connected or not, and since when; never a token."""
    connected = {row.provider: row for row in await repository.integrations(db, org_id)}
    return [_read(provider, connected.get(provider)) for provider in PROVIDERS]


def _read(provider: Provider, row: Integration | None) -> IntegrationRead:
    if row is None:
        return IntegrationRead(provider=provider, connected=False)
    return IntegrationRead(
        provider=provider,
        connected=True,
        external_account_id=row.external_account_id,
        connected_at=row.connected_at,
    )


async def instagram_token(
    db: AsyncSession, master_keys: KeyRing, org_id: uuid.UUID
) -> tuple[str, str]:
    """The Instagram account id and its opened token, for internal callers."""
    row = await repository.integration(db, org_id, "instagram")
    if row is None:
        raise InstagramNotConnected()
    token = INTEGRATION_TOKEN.open(master_keys, row.token_ciphertext, row.id)
    return row.external_account_id, token.decode()
