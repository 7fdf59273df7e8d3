"""Durable work runs when due, survives dead workers and a flushed Redis,
backs off when it fails, and is never lost: the row is the truth."""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import unit_of_work
from shared.runtime import Runtime
from shared.work import WorkItem, WorkItems, WorkLeaseLost, lease_for, sweep
from shared.worker import build_worker, run_burst
from tests.helpers.harness import (
    effects,
    start_python,
    stop_process,
    wait_until,
)
from tests.helpers.probe import PROBE

ITEMS = WorkItems(PROBE.spec.schema)
_MAKE_DUE = text(
    f"update {PROBE.spec.schema}.work_items set due_at = now() where id = :id"
)


async def schedule(runtime: Runtime, kind: str, due_at: datetime | None = None) -> UUID:
    async with unit_of_work(runtime.sessions) as session:
        return await ITEMS.schedule(session, kind, org_id=None, due_at=due_at)


async def item(runtime: Runtime, item_id: UUID) -> WorkItem:
    async with unit_of_work(runtime.sessions) as session:
        found = await ITEMS.get(session, item_id)
    assert found is not None
    return found


async def sweep_and_run(runtime: Runtime) -> int:
    queued = await sweep(runtime, PROBE.work)
    await run_burst(PROBE, runtime)
    return queued


async def test_a_due_item_runs_and_one_not_yet_due_waits(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    due = await schedule(runtime, "probe.note")
    later = await schedule(
        runtime, "probe.note", datetime.now(UTC) + timedelta(hours=1)
    )

    assert await sweep_and_run(runtime) == 1

    assert (await item(runtime, due)).state == "done"
    assert await effects(owner_engine, due) == ["attempt 1"]
    assert (await item(runtime, later)).state == "pending"
    assert await effects(owner_engine, later) == []


async def test_an_item_whose_worker_died_is_run_again_by_the_sweep(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    item_id = await schedule(runtime, "probe.note")
    async with unit_of_work(runtime.sessions) as session:
        dead = await ITEMS.claim(session, item_id, timedelta(0), PROBE.work.names)
    assert dead is not None and dead.attempts == 1

    assert await sweep_and_run(runtime) == 1

    assert (await item(runtime, item_id)).state == "done"
    assert await effects(owner_engine, item_id) == ["attempt 2"]
    with pytest.raises(WorkLeaseLost):
        async with unit_of_work(runtime.sessions) as session:
            await ITEMS.complete(session, dead, {})


async def test_an_item_held_by_a_live_worker_is_left_alone(runtime: Runtime) -> None:
    item_id = await schedule(runtime, "probe.note")
    async with unit_of_work(runtime.sessions) as session:
        held = await ITEMS.claim(
            session, item_id, timedelta(minutes=5), PROBE.work.names
        )
    assert held is not None

    assert await sweep_and_run(runtime) == 0
    assert (await item(runtime, item_id)).state == "running"


async def test_flushing_redis_loses_no_scheduled_item(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    item_id = await schedule(runtime, "probe.note")
    assert await sweep(runtime, PROBE.work) == 1

    await runtime.redis.flushall()
    await run_burst(PROBE, runtime)
    assert (await item(runtime, item_id)).state == "pending"

    assert await sweep_and_run(runtime) == 1
    assert await effects(owner_engine, item_id) == ["attempt 1"]


async def test_a_failing_item_backs_off_then_gives_up(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    item_id = await schedule(runtime, "probe.failing")

    await sweep_and_run(runtime)
    retried = await item(runtime, item_id)
    assert (retried.state, retried.attempts) == ("pending", 1)
    assert retried.last_error == "ProbeFailure"
    assert await sweep(runtime, PROBE.work) == 0

    await _make_due(owner_engine, item_id)
    await sweep_and_run(runtime)
    assert (await item(runtime, item_id)).state == "failed"


async def _make_due(owner: AsyncEngine, item_id: UUID) -> None:
    async with owner.begin() as connection:
        await connection.execute(_MAKE_DUE.bindparams(id=item_id))


async def test_work_in_steps_keeps_its_progress_between_runs(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    item_id = await schedule(runtime, "probe.steps")

    await sweep_and_run(runtime)

    finished = await item(runtime, item_id)
    assert (finished.state, finished.progress) == ("done", {"done": 3})
    assert await effects(owner_engine, item_id) == ["step 1", "step 2", "step 3"]


async def test_only_a_pending_item_can_be_cancelled(runtime: Runtime) -> None:
    waiting = await schedule(runtime, "probe.note")
    running = await schedule(runtime, "probe.note")
    async with unit_of_work(runtime.sessions) as session:
        await ITEMS.claim(session, running, timedelta(minutes=5), PROBE.work.names)

    async with unit_of_work(runtime.sessions) as session:
        assert await ITEMS.cancel(session, waiting)
        assert not await ITEMS.cancel(session, running)

    assert await sweep_and_run(runtime) == 0
    assert (await item(runtime, waiting)).state == "cancelled"


async def test_with_default_settings_a_killed_job_runs_again_within_a_minute(
    runtime: Runtime,
) -> None:
    defaults = PROBE.spec.settings_class()
    worker = build_worker(PROBE, runtime, runtime.redis)

    assert defaults.job_timeout_seconds == 30
    assert worker.in_progress_timeout_s <= 60
    assert lease_for(defaults) < timedelta(minutes=1)


async def test_a_worker_killed_mid_job_has_the_job_run_again(
    runtime: Runtime, owner_engine: AsyncEngine, private_redis: str, tmp_path: Path
) -> None:
    item_id = await schedule(runtime, "probe.slow")
    env = {"REDIS_URL": private_redis, "CONTACTS_JOB_TIMEOUT_SECONDS": "4"}
    arguments = ["-m", "tests.helpers.probe_worker"]
    first = start_python(arguments, tmp_path / "first.log", **env)
    second = None
    try:
        await wait_until(lambda: _noted(owner_engine, item_id, "start 1"), timeout=20)
        first.kill()
        killed_at = time.monotonic()
        second = start_python(arguments, tmp_path / "second.log", **env)

        await wait_until(lambda: _done(runtime, item_id), timeout=60)
        assert time.monotonic() - killed_at < 60
        assert await effects(owner_engine, item_id) == ["start 1", "start 2"]

        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=10) == 0
    finally:
        stop_process(first)
        if second is not None:
            stop_process(second)


async def _noted(owner: AsyncEngine, item_id: UUID, note: str) -> bool:
    return note in await effects(owner, item_id)


async def _done(runtime: Runtime, item_id: UUID) -> bool:
    return (await item(runtime, item_id)).state == "done"
