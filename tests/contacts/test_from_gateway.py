"""A DM signed by Meta reaches the gateway, travels through its outbox, the
relay and Redis to the contacts worker, and is filed there."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.contacts.tasks import TASKS
from services.events import ROUTES
from services.gateway import SPEC as GATEWAY
from services.gateway.app import create as create_gateway
from services.gateway.models import Organization
from services.gateway.settings import GatewaySettings
from shared.db import unit_of_work
from shared.events import relay_batch
from shared.runtime import Runtime, open_runtime
from shared.worker import run_burst
from tests.conftest import Stores
from tests.contacts.conftest import Caller, igsid
from tests.loopback import serve

APP_SECRET = "stand-in-app-secret-4e2a"


def _gateway_settings() -> GatewaySettings:
    # META_APP_SECRET is a shared setting, read by its alias: given by name here.
    overrides: dict[str, Any] = {"bcrypt_rounds": 4, "meta_app_secret": APP_SECRET}
    return GatewaySettings(**overrides)


@dataclass(frozen=True)
class Gateway:
    url: str
    runtime: Runtime


@pytest.fixture
async def gateway(stores: Stores, redis: Redis) -> AsyncIterator[Gateway]:
    """A real gateway on loopback, and its runtime, for its outbox relay."""
    app = create_gateway(_gateway_settings())
    async with serve(app) as url:
        yield Gateway(url=url, runtime=app.state.runtime)


@pytest.fixture
async def connected(stores: Stores) -> tuple[uuid.UUID, str]:
    """An organization and the Instagram account id it connected."""
    runtime = open_runtime(GATEWAY, GatewaySettings())
    org, account = uuid.uuid4(), f"1784{uuid.uuid4().int % 10**13:013d}"
    try:
        async with unit_of_work(runtime.sessions, org) as session:
            session.add(
                Organization(
                    id=org,
                    name="Tea House",
                    instagram_account_id=account,
                    instagram_username="tea_house",
                )
            )
    finally:
        await runtime.close()
    return org, account


def _delivery(account: str, contact: str, text: str) -> bytes:
    item = {
        "sender": {"id": contact},
        "recipient": {"id": account},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": f"aWdfZAG1{uuid.uuid4().hex}", "text": text},
    }
    entry = {"id": account, "time": int(time.time() * 1000), "messaging": [item]}
    return json.dumps({"object": "instagram", "entry": [entry]}).encode()


async def _post_signed(url: str, body: bytes) -> httpx.Response:
    signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "x-hub-signature-256": f"sha256={signature}",
        "content-type": "application/json",
    }
    async with httpx.AsyncClient(base_url=url) as client:
        return await client.post("/webhooks/instagram", content=body, headers=headers)


async def test_a_signed_dm_becomes_a_contact_with_its_message(
    gateway: Gateway,
    connected: tuple[uuid.UUID, str],
    runtime: Runtime,
    caller: Callable[..., Caller],
) -> None:
    org, account = connected
    contact = igsid()

    body = _delivery(account, contact, "Stop messaging me, please")
    answer = await _post_signed(gateway.url, body)
    assert answer.status_code == 200, answer.text
    assert await relay_batch(gateway.runtime, ROUTES, 100) >= 1
    assert await run_burst(TASKS, runtime) >= 1

    who = caller(org, uuid.uuid4())
    [listed] = (await who.get("/contacts")).json()["items"]
    assert listed["instagram_id"] == contact
    assert listed["opted_out"] is True
    messages = (await who.get(f"/contacts/{listed['id']}/messages")).json()["items"]
    assert [message["text"] for message in messages] == ["Stop messaging me, please"]
