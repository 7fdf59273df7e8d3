"""Events reach every consumer once, whatever process dies and whenever Redis
is away: the outbox, the relay and the consumer's record together."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.embedded import EmbeddedRedis, free_port
from services.contacts import SPEC as CONTACTS
from services.events import publish
from shared.db import unit_of_work
from shared.events import EVENT_JOB, Event, Outbox, UnroutedEvent, consume, relay_batch
from shared.runtime import Runtime
from shared.worker import WorkerOptions, run_burst, run_relay
from tests.helpers.harness import (
    effects,
    log_events,
    open_probe_runtime,
    scalar,
    start_python,
    stop_process,
    wait_until,
)
from tests.helpers.probe import PROBE, probe_event


async def emit(runtime: Runtime, event: Event) -> None:
    async with unit_of_work(runtime.sessions, event.org_id) as session:
        await Outbox(CONTACTS.schema).emit(session, event, [CONTACTS.name])


async def unpublished(owner: AsyncEngine) -> int:
    return int(
        await scalar(
            owner, "select count(*) from contacts.outbox where published_at is null"
        )
    )


async def handled(owner: AsyncEngine, event_id: UUID) -> int:
    return int(
        await scalar(
            owner,
            "select count(*) from contacts.handled_events where event_id = :id",
            id=event_id,
        )
    )


async def test_publish_writes_one_row_per_consumer_only_when_the_change_commits(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    purge = Event(type="org.purge_requested", org_id=None)
    deleted = Event(type="contact.deleted", org_id=None)
    async with unit_of_work(runtime.sessions) as session:
        await publish(session, purge, source=CONTACTS)
    with pytest.raises(RuntimeError):
        async with unit_of_work(runtime.sessions) as session:
            await publish(session, deleted, source=CONTACTS)
            raise RuntimeError("the change fails")

    destinations = await scalar(
        owner_engine,
        "select array_agg(destination order by destination) from contacts.outbox",
    )
    assert destinations == ["ai_agent", "contacts", "deletion", "gateway"]


async def test_an_event_nobody_consumes_cannot_be_published(runtime: Runtime) -> None:
    async with unit_of_work(runtime.sessions) as session:
        with pytest.raises(UnroutedEvent):
            await publish(session, Event(type="contact.renamed"), source=CONTACTS)


async def test_an_event_committed_by_a_process_killed_before_the_relay_arrives_once(
    runtime: Runtime, owner_engine: AsyncEngine, private_redis: str, tmp_path: Path
) -> None:
    writer = start_python(
        ["-m", "tests.helpers.emit_and_die"],
        tmp_path / "writer.log",
        REDIS_URL=private_redis,
    )
    output, _ = writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    event_id = UUID(output.decode().strip())
    assert await unpublished(owner_engine) == 1

    assert await relay_batch(runtime, PROBE.routes, limit=100) == 1
    await run_burst(PROBE, runtime)

    assert await effects(owner_engine, event_id) == [""]
    assert await handled(owner_engine, event_id) == 1
    assert await unpublished(owner_engine) == 0


async def test_a_relay_killed_between_publishing_and_marking_causes_one_effect(
    runtime: Runtime, owner_engine: AsyncEngine, private_redis: str, tmp_path: Path
) -> None:
    event = probe_event()
    await emit(runtime, event)

    relay = start_python(
        ["-m", "tests.helpers.relay_and_die"],
        tmp_path / "relay.log",
        REDIS_URL=private_redis,
    )
    output, _ = relay.communicate(timeout=30)
    assert output.decode().strip() == "1"
    assert await unpublished(owner_engine) == 1
    assert await runtime.redis.zcard(CONTACTS.queue) == 1

    await run_burst(PROBE, runtime)
    assert await relay_batch(runtime, PROBE.routes, limit=100) == 1
    await run_burst(PROBE, runtime)

    assert await effects(owner_engine, event.id) == [""]
    assert await handled(owner_engine, event.id) == 1
    assert await unpublished(owner_engine) == 0


async def test_events_committed_while_redis_is_down_arrive_once_when_it_returns(
    runtime: Runtime, owner_engine: AsyncEngine, tmp_path: Path
) -> None:
    server = EmbeddedRedis(tmp_path, port=free_port())
    offline = open_probe_runtime(server.start())
    server.stop()
    events = [probe_event() for _ in range(3)]
    for event in events:
        await emit(offline, event)

    fast = WorkerOptions(relay_interval_seconds=0.05, longest_backoff_seconds=0.3)
    relay = asyncio.create_task(run_relay(offline, PROBE.routes, fast))
    restarted = EmbeddedRedis(tmp_path, port=server.port)
    try:
        await asyncio.sleep(1.0)
        assert not relay.done()
        assert await unpublished(owner_engine) == 3
        restarted.start()
        await wait_until(lambda: _all_published(owner_engine), timeout=10)
        await run_burst(PROBE, offline)
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await offline.close()
        restarted.stop()

    for event in events:
        assert await effects(owner_engine, event.id) == [""]
        assert await handled(owner_engine, event.id) == 1


async def _all_published(owner: AsyncEngine) -> bool:
    return await unpublished(owner) == 0


async def test_a_redelivered_event_changes_nothing(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    event = probe_event()
    for job_id in ("first-delivery", "second-delivery"):
        await runtime.redis.enqueue_job(
            EVENT_JOB, event.to_job(), _job_id=job_id, _queue_name=CONTACTS.queue
        )

    await run_burst(PROBE, runtime)

    assert await effects(owner_engine, event.id) == [""]
    assert await handled(owner_engine, event.id) == 1


async def test_concurrent_deliveries_of_one_event_change_things_once(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    event = probe_event(linger=0.3)

    outcomes = await asyncio.gather(
        *(consume(runtime, PROBE.handlers, event) for _ in range(5))
    )

    assert sorted(outcomes) == ["duplicate"] * 4 + ["handled"]
    assert await effects(owner_engine, event.id) == [""]


async def test_a_failed_handling_leaves_no_trace_and_is_tried_again(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    event = probe_event(fail_once=True)
    await emit(runtime, event)

    await relay_batch(runtime, PROBE.routes, limit=100)
    await run_burst(PROBE, runtime)

    assert await effects(owner_engine, event.id) == [""]
    assert await handled(owner_engine, event.id) == 1


async def test_an_event_without_a_handler_is_recorded_and_ignored(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    event = Event(type="instagram.message_received", org_id=None)

    assert await consume(runtime, PROBE.handlers, event) == "ignored"
    assert await consume(runtime, PROBE.handlers, event) == "duplicate"
    assert await handled(owner_engine, event.id) == 1


async def test_the_worker_outlives_redis_outages_and_stops_on_sigterm(
    runtime: Runtime, owner_engine: AsyncEngine, tmp_path: Path
) -> None:
    port = free_port()
    log_path = tmp_path / "worker.log"
    worker = start_python(
        ["-c", "from services.contacts.tasks import main; main()"],
        log_path,
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
    )
    server = EmbeddedRedis(tmp_path, port=port)
    try:
        before = await _deliver_through_outage(runtime, owner_engine, server, log_path)
        server.stop()
        during = await _deliver_through_outage(runtime, owner_engine, server, log_path)
        assert worker.poll() is None

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
    finally:
        stop_process(worker)
        server.stop()

    assert await handled(owner_engine, before.id) == 1
    assert await handled(owner_engine, during.id) == 1
    logged = log_events(log_path)
    for outage_event in (*_OUTAGES, "outbox.relay_resumed", "worker.redis_resumed"):
        assert logged.count(outage_event) == 2, outage_event
    assert logged[-1] == "worker.stopped"


_OUTAGES = ("outbox.relay_unavailable", "worker.redis_unavailable")


async def _deliver_through_outage(
    runtime: Runtime, owner: AsyncEngine, server: EmbeddedRedis, log_path: Path
) -> Event:
    """Commit an event while Redis is down, let the worker retry, bring it back."""
    outages = log_events(log_path).count(_OUTAGES[1])
    event = Event(type="instagram.message_received", org_id=None)
    await emit(runtime, event)

    await wait_until(lambda: _retried(owner, event.id, outages, log_path), timeout=30)
    server.start()
    await wait_until(lambda: _handled_once(owner, event.id), timeout=30)
    return event


async def _retried(
    owner: AsyncEngine, event_id: UUID, outages: int, log_path: Path
) -> bool:
    attempts = await scalar(
        owner, "select attempts from contacts.outbox where event_id = :id", id=event_id
    )
    logged = log_events(log_path)
    return attempts >= 2 and all(logged.count(name) > outages for name in _OUTAGES)


async def _handled_once(owner: AsyncEngine, event_id: UUID) -> bool:
    return await handled(owner, event_id) == 1
