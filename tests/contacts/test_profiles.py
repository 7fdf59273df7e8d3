"""Profiles come from Meta in the background: a slow, failing or absent Meta
delays the profile and never the message."""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.embedded import free_port
from services.contacts import SPEC as CONTACTS
from services.contacts.profiles import PROFILE_REFRESH
from services.contacts.settings import ContactsSettings
from services.contacts.tasks import work_kinds
from services.gateway import SPEC as GATEWAY
from services.gateway.app import create as create_gateway
from services.gateway.models import Organization
from services.gateway.orgs import integrations
from services.gateway.settings import GatewaySettings
from shared.db import unit_of_work
from shared.runtime import Runtime, open_runtime
from shared.work import run_item
from tests.conftest import Stores
from tests.contacts.conftest import BUSINESS_ACCOUNT, deliver, igsid, instagram_event
from tests.contacts.graph_profiles import GraphProfiles, running_graph_profiles
from tests.loopback import serve

PAGE_TOKEN = "EAAP" + secrets.token_urlsafe(40)
PROFILE = {
    "name": "Ana Souza",
    "username": "ana.souza",
    "profile_pic": "https://scontent.cdninstagram.com/v/ana.jpg",
    "follower_count": 1234,
    "is_verified_user": False,
}


@pytest.fixture
async def gateway_url(stores: Stores, redis: Redis) -> AsyncIterator[str]:
    async with serve(create_gateway(GatewaySettings(bcrypt_rounds=4))) as url:
        yield url


@pytest.fixture
async def org_id(stores: Stores) -> uuid.UUID:
    """An organization whose Instagram account is connected with PAGE_TOKEN."""
    runtime = open_runtime(GATEWAY, GatewaySettings())
    org = uuid.uuid4()
    try:
        async with unit_of_work(runtime.sessions, org) as session:
            session.add(
                Organization(
                    id=org,
                    name="Tea House",
                    instagram_account_id=f"1784{uuid.uuid4().int % 10**13:013d}",
                    instagram_username="tea_house",
                )
            )
            await session.flush()
            integrations.store(
                session,
                runtime.secrets.master_keys,
                org_id=org,
                provider="instagram",
                token=PAGE_TOKEN,
                external_account_id=BUSINESS_ACCOUNT,
            )
    finally:
        await runtime.close()
    return org


@pytest.fixture
async def graph() -> AsyncIterator[GraphProfiles]:
    async with running_graph_profiles(PAGE_TOKEN) as stand_in:
        yield stand_in


def _runtime(gateway_url: str, graph_url: str) -> Runtime:
    # META_GRAPH_URL is a shared setting, read by its alias: given by name here.
    overrides: dict[str, Any] = {
        "gateway_url": gateway_url,
        "meta_graph_url": graph_url,
        "meta_timeout_seconds": 2.0,
    }
    return open_runtime(CONTACTS, ContactsSettings(**overrides))


@pytest.fixture
async def worker(
    gateway_url: str, graph: GraphProfiles, redis: Redis
) -> AsyncIterator[Runtime]:
    """The contacts worker's runtime, pointed at the gateway and the stand-in."""
    runtime = _runtime(gateway_url, graph.graph_url)
    yield runtime
    await runtime.close()


async def _refresh_item(engine: AsyncEngine, org: uuid.UUID) -> Any:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "select id, state, attempts, last_error from contacts.work_items "
                "where org_id = :org and kind = :kind"
            ),
            {"org": org, "kind": PROFILE_REFRESH},
        )
        return rows.one()


async def _contact(engine: AsyncEngine, org: uuid.UUID, instagram_id: str) -> Any:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "select c.*, (select count(*) from contacts.messages m "
                "where m.contact_id = c.id) as messages from contacts.contacts c "
                "where org_id = :org and instagram_id = :igsid"
            ),
            {"org": org, "igsid": instagram_id},
        )
        return rows.one()


async def _message_from(runtime: Runtime, org: uuid.UUID, contact: str) -> float:
    """Deliver a message from ``contact``; how many seconds filing it took."""
    event = instagram_event(
        runtime.secrets.master_keys, org, contact=contact, text="hi"
    )
    began = time.perf_counter()
    assert await deliver(runtime, event) == "handled"
    return time.perf_counter() - began


async def test_the_profile_is_fetched_and_stored_by_the_worker(
    worker: Runtime, graph: GraphProfiles, org_id: uuid.UUID, owner_engine: AsyncEngine
) -> None:
    contact = igsid()
    graph.profiles[contact] = PROFILE

    await _message_from(worker, org_id, contact)
    item = await _refresh_item(owner_engine, org_id)
    await run_item(worker, work_kinds, item.id)

    stored = await _contact(owner_engine, org_id, contact)
    assert (stored.username, stored.name) == ("ana.souza", "Ana Souza")
    assert stored.profile_pic_url == PROFILE["profile_pic"]
    assert (stored.follower_count, stored.is_verified) == (1234, False)
    assert stored.profile_fetched_at is not None
    assert (await _refresh_item(owner_engine, org_id)).state == "done"
    assert graph.asked == [contact]


async def test_a_fresh_profile_is_not_fetched_again(
    worker: Runtime, graph: GraphProfiles, org_id: uuid.UUID, owner_engine: AsyncEngine
) -> None:
    contact = igsid()
    graph.profiles[contact] = PROFILE
    await _message_from(worker, org_id, contact)
    await run_item(worker, work_kinds, (await _refresh_item(owner_engine, org_id)).id)

    await _message_from(worker, org_id, contact)

    assert (await _refresh_item(owner_engine, org_id)).state == "done"


@pytest.mark.parametrize("behaviour", ["hang", "unavailable"])
async def test_a_slow_or_failing_meta_delays_only_the_profile(
    worker: Runtime,
    graph: GraphProfiles,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
    behaviour: Any,
) -> None:
    contact = igsid()
    graph.profiles[contact] = PROFILE
    graph.behaviour = behaviour

    took = await _message_from(worker, org_id, contact)
    item = await _refresh_item(owner_engine, org_id)
    fetch = asyncio.create_task(run_item(worker, work_kinds, item.id))
    while not graph.asked:
        await asyncio.sleep(0.01)
    took_meanwhile = await _message_from(worker, org_id, contact)
    await fetch

    assert max(took, took_meanwhile) < 1.5
    stored = await _contact(owner_engine, org_id, contact)
    assert stored.messages == 2
    assert stored.username is None and stored.profile_fetched_at is None
    failed = await _refresh_item(owner_engine, org_id)
    assert (failed.state, failed.attempts) == ("pending", 1)
    assert failed.last_error == "ProfileFetchFailed"


async def test_meta_down_leaves_the_message_filed_and_the_fetch_pending(
    gateway_url: str, org_id: uuid.UUID, owner_engine: AsyncEngine, redis: Redis
) -> None:
    runtime = _runtime(gateway_url, f"http://127.0.0.1:{free_port()}/v21.0")
    contact = igsid()
    try:
        await _message_from(runtime, org_id, contact)
        await run_item(
            runtime, work_kinds, (await _refresh_item(owner_engine, org_id)).id
        )
    finally:
        await runtime.close()

    assert (await _contact(owner_engine, org_id, contact)).messages == 1
    failed = await _refresh_item(owner_engine, org_id)
    assert (failed.state, failed.last_error) == ("pending", "ProfileFetchFailed")


async def test_an_organization_without_instagram_gets_no_profile(
    worker: Runtime, graph: GraphProfiles, owner_engine: AsyncEngine
) -> None:
    org, contact = uuid.uuid4(), igsid()
    graph.profiles[contact] = PROFILE

    await _message_from(worker, org, contact)
    await run_item(worker, work_kinds, (await _refresh_item(owner_engine, org)).id)

    assert graph.asked == []
    assert (await _refresh_item(owner_engine, org)).last_error == "ProfileFetchFailed"
