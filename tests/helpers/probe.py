"""A probe service for the event and work tests.

It is the contacts service's schema and queue with handlers and work kinds
that leave a trace in a table of their own, so a test can count effects. The
same tasks run in the test process and in the worker processes tests start.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import SPEC
from services.events import ROUTES
from shared.events import Event, EventContext, EventHandlers, Routes
from shared.work import RunAgain, WorkKinds, WorkRun
from shared.worker import ServiceTasks

EFFECTS_TABLE = f"{SPEC.schema}.probe_effects"
CREATE_EFFECTS_TABLE = (
    f"create table if not exists {EFFECTS_TABLE} ("
    " source text not null, key text not null, note text not null default '',"
    " recorded_at timestamptz not null default clock_timestamp())"
)
PINGED = "probe.pinged"

PROBE_ROUTES = Routes(
    consumers={**ROUTES.consumers, PINGED: (SPEC.name,)},
    queues=ROUTES.queues,
)


class ProbeFailure(RuntimeError):
    """The failure a probe handler or work kind was asked to show."""


_failed_once: set[str] = set()


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


handlers = EventHandlers()
kinds = WorkKinds()


async def record_effect(
    session: AsyncSession, source: str, key: object, note: str = ""
) -> None:
    await session.execute(
        text(f"insert into {EFFECTS_TABLE} (source, key, note) values (:s, :k, :n)"),
        {"s": source, "k": str(key), "n": note},
    )


@handlers.on(PINGED)
async def record_ping(event: Event, context: EventContext) -> None:
    await record_effect(context.session, "event", event.id)
    # Holds the transaction open so that concurrent deliveries overlap.
    await asyncio.sleep(_number(event.payload.get("linger")))
    if event.payload.get("fail_once") and str(event.id) not in _failed_once:
        _failed_once.add(str(event.id))
        raise ProbeFailure()


@kinds.on("probe.note")
async def note(run: WorkRun) -> None:
    async with run.transaction() as session:
        await record_effect(
            session, "work", run.item.id, f"attempt {run.item.attempts}"
        )


@kinds.on("probe.failing", max_attempts=2)
async def failing(run: WorkRun) -> None:
    raise ProbeFailure()


@kinds.on("probe.steps", max_attempts=None)
async def steps(run: WorkRun) -> RunAgain | None:
    done = int(_number(run.progress.get("done"))) + 1
    async with run.transaction() as session:
        await record_effect(session, "work", run.item.id, f"step {done}")
        await run.checkpoint(session, {"done": done})
    return RunAgain() if done < 3 else None


@kinds.on("probe.slow")
async def slow(run: WorkRun) -> None:
    """The first attempt never ends by itself: it is there to be killed."""
    async with run.transaction() as session:
        await record_effect(session, "work", run.item.id, f"start {run.item.attempts}")
    if run.item.attempts == 1:
        await asyncio.sleep(3600)


PROBE = ServiceTasks(spec=SPEC, handlers=handlers, work=kinds, routes=PROBE_ROUTES)


def probe_event(**payload: Any) -> Event:
    """A ping for the probe's handler, from an organization of its own."""
    return Event(type=PINGED, org_id=uuid4(), payload=payload)
