"""A contacts worker killed in the middle of a purge, and started again,
finishes it: every row gone, each counted exactly once, one answer sent."""

from __future__ import annotations

import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.contacts import SPEC as CONTACTS
from services.contacts.settings import ContactsSettings
from services.contacts.tasks import handlers
from shared.events import Event, consume
from shared.purge import purge_item_id
from shared.runtime import Runtime, open_runtime
from tests.conftest import Stores
from tests.contacts.conftest import deliver, igsid, instagram_event
from tests.helpers.harness import scalar, start_python, stop_process, wait_until

CONTACTS_MADE = 30_000
WORKER = ["-c", "from services.contacts.tasks import main; main()"]
# A short job timeout makes the killed attempt's lease expire in seconds.
WORKER_ENV = {"CONTACTS_JOB_TIMEOUT_SECONDS": "4"}

_MULTIPLY_CONTACTS = text(
    """
    insert into contacts.contacts
    select (jsonb_populate_record(null::contacts.contacts, to_jsonb(c)
        || jsonb_build_object('id', gen_random_uuid(), 'instagram_id', 'n' || g))).*
    from contacts.contacts c, generate_series(1, :copies) g
    where c.org_id = :org
    """
)


@pytest.fixture
async def runtime(stores: Stores, redis: Redis) -> AsyncIterator[Runtime]:
    opened = open_runtime(CONTACTS, ContactsSettings())
    yield opened
    await opened.close()


async def many_contacts(
    runtime: Runtime, owner_engine: AsyncEngine, org_id: uuid.UUID
) -> None:
    """One contact filed as the handler files it, then copies of it."""
    event = instagram_event(
        runtime.secrets.master_keys, org_id, contact=igsid(), text="hi"
    )
    assert await deliver(runtime, event) == "handled"
    async with owner_engine.begin() as connection:
        await connection.execute(
            _MULTIPLY_CONTACTS, {"org": org_id, "copies": CONTACTS_MADE}
        )


async def progress(owner_engine: AsyncEngine, item_id: uuid.UUID) -> dict[str, Any]:
    found = await scalar(
        owner_engine,
        "select jsonb_build_object('state', state, 'progress', progress) "
        "from contacts.work_items where id = :id",
        id=item_id,
    )
    return dict(found or {})


async def test_a_purge_killed_mid_way_finishes_after_a_restart(
    runtime: Runtime, owner_engine: AsyncEngine, stores: Stores, tmp_path: Path
) -> None:
    org_id, run_id = uuid.uuid4(), uuid.uuid4()
    await many_contacts(runtime, owner_engine, org_id)
    requested = Event(
        type="org.purge_requested", org_id=org_id, payload={"run_id": str(run_id)}
    )
    await consume(runtime, handlers, requested)
    item_id = purge_item_id(run_id)

    async def started() -> bool:
        return bool((await progress(owner_engine, item_id))["progress"]["counts"])

    async def done() -> bool:
        return bool((await progress(owner_engine, item_id))["state"] == "done")

    env = {"REDIS_URL": stores.redis_url, **WORKER_ENV}
    first = start_python(WORKER, tmp_path / "first.log", **env)
    second = None
    try:
        await wait_until(started, timeout=30, step=0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert not await done(), "the purge finished before the kill"

        second = start_python(WORKER, tmp_path / "second.log", **env)
        await wait_until(done, timeout=90, step=0.2)
    finally:
        stop_process(first)
        if second is not None:
            stop_process(second)

    counts = (await progress(owner_engine, item_id))["progress"]["counts"]
    assert counts["contacts"] == CONTACTS_MADE + 1
    assert counts["messages"] == 1
    left = await scalar(
        owner_engine,
        "select count(*) from contacts.contacts where org_id = :org",
        org=org_id,
    )
    assert left == 0
    answers = await scalar(
        owner_engine,
        "select count(*) from contacts.outbox "
        "where event_type = 'org.purge_completed' and org_id = :org",
        org=org_id,
    )
    assert answers == 1
