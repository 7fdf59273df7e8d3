"""A real contacts service on loopback, its worker's handler, and callers."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.contacts import SPEC as CONTACTS
from services.contacts.app import create as create_contacts
from services.contacts.settings import ContactsSettings
from services.contacts.tasks import handlers
from shared.crypto.cipher import seal
from shared.crypto.keyring import KeyRing
from shared.events import Event, consume
from shared.events.consumer import Outcome
from shared.identity import IDENTITY_HEADER, sign_identity, user_identity
from shared.runtime import Runtime, open_runtime
from tests.conftest import Stores
from tests.loopback import serve

BUSINESS_ACCOUNT = "17841400000000001"


@pytest.fixture
async def runtime(stores: Stores, redis: Redis) -> AsyncIterator[Runtime]:
    """The contacts worker's runtime: its own role, its own keys."""
    opened = open_runtime(CONTACTS, ContactsSettings())
    yield opened
    await opened.close()


@pytest.fixture
async def contacts_url(stores: Stores, redis: Redis) -> AsyncIterator[str]:
    app = create_contacts(ContactsSettings())
    async with serve(app) as url:
        yield url


class Caller:
    """A member of one organization, as the gateway would vouch for them."""

    def __init__(
        self, base_url: str, keys: KeyRing, org_id: uuid.UUID, user_id: uuid.UUID | None
    ) -> None:
        self.org_id = org_id
        self.user_id = user_id
        self._keys = keys
        self.http = httpx.AsyncClient(base_url=f"{base_url}/api/orgs/{org_id}")

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        identity = user_identity(
            issuer="gateway",
            audience="contacts",
            org_id=self.org_id,
            user_id=self.user_id,
            role="member",
            ttl_seconds=60,
        )
        headers = {IDENTITY_HEADER: sign_identity(identity, self._keys)}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)


@pytest.fixture
async def caller(
    contacts_url: str, runtime: Runtime
) -> AsyncIterator[Callable[..., Caller]]:
    """Open a caller for an organization (a person, or the API token: no user)."""
    opened: list[Caller] = []
    keys = runtime.secrets.internal_signing_keys

    def open_caller(org_id: uuid.UUID, user_id: uuid.UUID | None = None) -> Caller:
        opened.append(Caller(contacts_url, keys, org_id, user_id))
        return opened[-1]

    yield open_caller
    for each in opened:
        await each.http.aclose()


def instagram_event(
    master_keys: KeyRing,
    org_id: uuid.UUID,
    *,
    kind: str = "message",
    contact: str = "",
    text: str | None = None,
    message_id: str | None = None,
    at: datetime | None = None,
    **plain: Any,
) -> Event:
    """``instagram.message_received`` as the gateway emits it: ids and times in
    the clear, the text sealed with the master key and bound to the event."""
    event_id = uuid.uuid4()
    sender, recipient = contact, BUSINESS_ACCOUNT
    if kind == "echo":
        sender, recipient = recipient, sender
    moment = at or datetime.now(UTC)
    payload: dict[str, Any] = {
        "kind": kind,
        "instagram_account_id": BUSINESS_ACCOUNT,
        "delivery_id": str(uuid.uuid4()),
        "sender_id": sender,
        "recipient_id": recipient,
        "timestamp": int(moment.timestamp() * 1000),
        "message_id": message_id or f"aWdfZAG1faXRlbToxOklHTWVzc2FnZ{uuid.uuid4().hex}",
        **plain,
        "sealed": {},
    }
    if text is not None:
        sealed = seal(
            master_keys,
            json.dumps(text).encode(),
            table="event",
            column="text",
            row_id=event_id,
        )
        payload["sealed"] = {"text": base64.b64encode(sealed).decode()}
    return Event(
        id=event_id,
        type="instagram.message_received",
        org_id=org_id,
        payload=payload,
    )


async def deliver(runtime: Runtime, event: Event) -> Outcome:
    """Hand ``event`` to the contacts worker's handler, as its queue would."""
    return await consume(runtime, handlers, event)


def igsid() -> str:
    """A new Instagram-scoped id."""
    return str(uuid.uuid4().int)[:17]
