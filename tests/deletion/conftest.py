"""A real deletion service on loopback, its worker's runtime, and callers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.deletion import SPEC as DELETION
from services.deletion.app import create as create_deletion
from services.deletion.settings import DeletionSettings
from services.gateway.app import create as create_gateway
from shared.crypto.keyring import KeyRing
from shared.identity import IDENTITY_HEADER, Role, sign_identity, user_identity
from shared.runtime import Runtime, open_runtime
from tests.conftest import Stores
from tests.gateway.conftest import admin, member, meta, new_browser, org_id
from tests.loopback import serve
from tests.stand_ins.meta_graph import MetaGraph

# The gateway tests' people and organization, before the gateway_url below.
__all__ = ["admin", "member", "meta", "new_browser", "org_id"]


@pytest.fixture
async def runtime(stores: Stores, redis: Redis) -> AsyncIterator[Runtime]:
    """The deletion worker's runtime: its own role, its own keys."""
    opened = open_runtime(DELETION, DeletionSettings())
    yield opened
    await opened.close()


@pytest.fixture
async def deletion_url(stores: Stores, redis: Redis) -> AsyncIterator[str]:
    async with serve(create_deletion(DeletionSettings())) as url:
        yield url


class Caller:
    """Someone in one organization, as the gateway would vouch for them."""

    def __init__(
        self,
        base_url: str,
        keys: KeyRing,
        org_id: uuid.UUID,
        role: Role,
        user_id: uuid.UUID | None,
        address: uuid.UUID | None = None,
    ) -> None:
        self.org_id = org_id
        self.role: Role = role
        self.user_id = user_id
        self._keys = keys
        self.http = httpx.AsyncClient(
            base_url=f"{base_url}/api/orgs/{address or org_id}"
        )

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        identity = user_identity(
            issuer="gateway",
            audience="deletion",
            org_id=self.org_id,
            user_id=self.user_id,
            role=self.role,
            ttl_seconds=60,
        )
        headers = {IDENTITY_HEADER: sign_identity(identity, self._keys)}
        return await self.http.request(method, path, headers=headers, **kwargs)


@pytest.fixture
async def caller(
    deletion_url: str, runtime: Runtime
) -> AsyncIterator[Callable[..., Caller]]:
    """Open a caller: a person unless ``person`` is False (the API token), an
    admin unless told otherwise, at their own organization's address unless
    ``address`` names another."""
    opened: list[Caller] = []
    keys = runtime.secrets.internal_signing_keys

    def open_caller(
        org_id: uuid.UUID,
        role: Role = "admin",
        *,
        person: bool = True,
        address: uuid.UUID | None = None,
    ) -> Caller:
        user_id = uuid.uuid4() if person else None
        opened.append(Caller(deletion_url, keys, org_id, role, user_id, address))
        return opened[-1]

    yield open_caller
    for each in opened:
        await each.http.aclose()


@pytest.fixture
async def gateway_url(
    stores: Stores, redis: Redis, meta: MetaGraph, deletion_url: str
) -> AsyncIterator[str]:
    """A real gateway in front of the real deletion service."""
    settings = meta.gateway_settings(deletion_url=deletion_url)
    async with serve(create_gateway(settings)) as url:
        yield url
