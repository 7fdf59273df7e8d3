"""When the window ends, every service purges the organization: nothing of it
is left in any table, key or Redis entry, and another organization keeps all
it had. A second request for the same purge changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ai_agent.tasks import TASKS as AI_AGENT_TASKS
from services.contacts.tasks import TASKS as CONTACTS_TASKS
from services.deletion import SPEC as DELETION
from services.deletion.tasks import TASKS as DELETION_TASKS
from services.events import ROUTES, publish
from services.gateway.tasks import TASKS as GATEWAY_TASKS
from shared.crypto.data_keys import get_or_create_data_key
from shared.db import unit_of_work
from shared.events import Event, relay_batch
from shared.runtime import Runtime, open_runtime
from shared.work import sweep
from shared.worker import ServiceTasks, run_burst
from tests.contacts.conftest import deliver, igsid, instagram_event
from tests.deletion.conftest import Caller
from tests.deletion.test_grace_window import end_window_now
from tests.gateway.browser import Browser
from tests.stand_ins.front_end import connect_organization
from tests.stand_ins.meta_graph import MetaGraph

ALL_TASKS = (GATEWAY_TASKS, CONTACTS_TASKS, AI_AGENT_TASKS, DELETION_TASKS)
SCHEMAS = ("gateway", "contacts", "ai_agent", "deletion")
# The request and its run are the receipt; the system tables hold ids only.
KEPT = {"deletion.deletion_requests", "deletion.purge_runs"}
SYSTEM = {"outbox", "work_items", "handled_events"}

Runtimes = dict[str, tuple[ServiceTasks, Runtime]]


@pytest.fixture
async def runtimes(stores: Any, redis: Redis) -> AsyncIterator[Runtimes]:
    """Every service's worker runtime, each as its own role."""
    opened = {
        tasks.spec.name: (tasks, open_runtime(tasks.spec, tasks.spec.settings()))
        for tasks in ALL_TASKS
    }
    yield opened
    for _, runtime in opened.values():
        await runtime.close()


async def run_workers(runtimes: Runtimes, rounds: int = 6) -> None:
    """Relay, sweep and run every service's jobs until the flow settles."""
    for _ in range(rounds):
        for tasks, runtime in runtimes.values():
            await relay_batch(runtime, ROUTES, 500)
            await sweep(runtime, tasks.work)
            await run_burst(tasks, runtime)


async def rows_of(owner_engine: AsyncEngine, org_id: str) -> dict[str, int]:
    """How many rows of every table of every schema belong to ``org_id``."""
    found: dict[str, int] = {}
    async with owner_engine.connect() as connection:
        tables = await connection.execute(
            text(
                "select table_schema, table_name, column_name "
                "from information_schema.columns "
                "where table_schema = any(:schemas) "
                "and column_name in ('org_id', 'id')"
            ),
            {"schemas": list(SCHEMAS)},
        )
        for schema, table, column in tables:
            count = await connection.scalar(
                text(
                    f'select count(*) from "{schema}"."{table}" '
                    f"where {column}::text = :org"
                ),
                {"org": org_id},
            )
            if count:
                found[f"{schema}.{table}"] = count
    return found


async def user_exists(owner_engine: AsyncEngine, email: str) -> bool:
    async with owner_engine.connect() as connection:
        count = await connection.scalar(
            text("select count(*) from gateway.users where email = :email"),
            {"email": email},
        )
    return bool(count)


async def fill_services(runtimes: Runtimes, redis: Redis, org_id: str) -> None:
    """Contacts and messages, an AI agent key, and Redis entries, for ``org_id``."""
    contacts = runtimes["contacts"][1]
    for text_sent in ("hello", "how much is it?"):
        event = instagram_event(
            contacts.secrets.master_keys,
            uuid.UUID(org_id),
            contact=igsid(),
            text=text_sent,
        )
        assert await deliver(contacts, event) == "handled"
    agent = runtimes["ai_agent"][1]
    async with unit_of_work(agent.sessions, uuid.UUID(org_id)) as session:
        await get_or_create_data_key(
            session, "ai_agent", uuid.UUID(org_id), agent.secrets.master_keys
        )
    await redis.set(f"ojime:test:{org_id}:cursor", "1")


async def purge(
    caller: Callable[..., Caller],
    owner_engine: AsyncEngine,
    runtimes: Runtimes,
    org_id: str,
) -> None:
    await caller(uuid.UUID(org_id)).request("POST", "/deletion")
    await end_window_now(owner_engine, uuid.UUID(org_id))
    await run_workers(runtimes)


async def receipt(owner_engine: AsyncEngine, org_id: str) -> dict[str, Any]:
    async with owner_engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "select started_at, completed_at, counts "
                    "from deletion.purge_runs where org_id = :org"
                ),
                {"org": org_id},
            )
        ).one()
    return dict(row._mapping)


@contextlib.asynccontextmanager
async def watching_purge_progress() -> AsyncIterator[list[float]]:
    """The purge-progress gauge as a scrape would have seen it, sampled
    between the purge's steps."""
    seen: list[float] = []

    async def sample() -> None:
        while True:
            seen.append(REGISTRY.get_sample_value("ojime_purge_rows_remaining") or 0)
            await asyncio.sleep(0)

    sampler = asyncio.create_task(sample())
    try:
        yield seen
    finally:
        sampler.cancel()
        seen.append(REGISTRY.get_sample_value("ojime_purge_rows_remaining") or 0)


async def test_a_purge_leaves_nothing_of_the_organization_and_spares_another(
    admin: Browser,
    org_id: str,
    member: Browser,
    new_browser: Callable[[], Browser],
    meta: MetaGraph,
    caller: Callable[..., Caller],
    owner_engine: AsyncEngine,
    runtimes: Runtimes,
    redis: Redis,
) -> None:
    neighbour = new_browser()
    neighbour_email = (await neighbour.sign_up())["user"]["email"]
    other_org = str((await connect_organization(neighbour, meta))["id"])
    for org in (org_id, other_org):
        await fill_services(runtimes, redis, org)
    member_email = (await member.get("/api/auth/me")).json()["user"]["email"]
    others_before = await rows_of(owner_engine, other_org)
    assert {"gateway.memberships", "contacts.messages"} <= set(
        await rows_of(owner_engine, org_id)
    )

    async with watching_purge_progress() as seen:
        await purge(caller, owner_engine, runtimes, org_id)

    assert max(seen) > 0 and seen[-1] == 0
    assert set(await domain_rows_of(owner_engine, org_id)) == KEPT
    assert not await user_exists(owner_engine, member_email)
    assert await rows_of(owner_engine, other_org) == others_before
    assert await user_exists(owner_engine, neighbour_email)
    assert await redis.keys(f"*{org_id}*") == []
    assert await redis.exists(f"ojime:test:{other_org}:cursor")
    done = await receipt(owner_engine, org_id)
    assert done["completed_at"] is not None
    assert set(done["counts"]) == set(SCHEMAS)
    assert done["counts"]["contacts"]["messages"] == 2
    assert done["counts"]["gateway"]["users"] == 2


async def test_a_second_purge_request_changes_nothing(
    admin: Browser,
    org_id: str,
    caller: Callable[..., Caller],
    owner_engine: AsyncEngine,
    runtimes: Runtimes,
    redis: Redis,
) -> None:
    await fill_services(runtimes, redis, org_id)
    await purge(caller, owner_engine, runtimes, org_id)
    first = await receipt(owner_engine, org_id)
    left = await domain_rows_of(owner_engine, org_id)

    await request_purge_again(runtimes["deletion"][1], org_id)
    await run_workers(runtimes)

    assert await receipt(owner_engine, org_id) == first
    assert await domain_rows_of(owner_engine, org_id) == left


async def domain_rows_of(owner_engine: AsyncEngine, org_id: str) -> dict[str, int]:
    rows = await rows_of(owner_engine, org_id)
    return {
        table: count
        for table, count in rows.items()
        if table.partition(".")[2] not in SYSTEM
    }


async def request_purge_again(deletion: Runtime, org_id: str) -> None:
    """Publish ``org.purge_requested`` for the finished run once more."""
    org = uuid.UUID(org_id)
    async with unit_of_work(deletion.sessions, org) as session:
        run_id = await session.scalar(
            text("select id from deletion.purge_runs where org_id = :org"),
            {"org": org},
        )
        event = Event(
            type="org.purge_requested", org_id=org, payload={"run_id": str(run_id)}
        )
        await publish(session, event, source=DELETION)
