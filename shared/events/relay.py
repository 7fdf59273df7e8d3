"""The relay: moves committed outbox rows onto the consumers' arq queues.

Rows are claimed in small batches with ``FOR UPDATE SKIP LOCKED``, so several
relays share the work; each batch is published, then marked. A relay that dies
between publishing and marking leaves its rows unpublished and a later relay
publishes them again: arq refuses a job id that it still holds or whose result
it keeps, and the consumer's record of handled events covers the rest. Rows
are published oldest first, but consumers must not rely on order: batches
of different relays interleave and failed deliveries are retried later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import structlog
from arq.connections import ArqRedis
from sqlalchemy import func, select

from shared.db import unit_of_work
from shared.events.outbox import Outbox, OutboxRow
from shared.events.routing import Routes
from shared.metrics import OUTBOX_LAG
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

EVENT_JOB = "handle_event"

# arq drops a job whose payload has expired before a worker took it (a day by
# default); a week outlasts any consumer outage we would let happen.
EVENT_JOB_EXPIRY = timedelta(days=7)


def event_job_id(destination: str, event_id: UUID) -> str:
    """The arq job id of one event for one consumer.

    arq keeps a single namespace of job ids across all queues, so the event id
    alone would let the first consumer's job hide the event from the second:
    the destination is part of the id.
    """
    return f"event:{destination}:{event_id}"


async def publish(redis: ArqRedis, routes: Routes, row: OutboxRow) -> bool:
    """Put ``row`` on its consumer's queue; False if arq already had it."""
    job = await redis.enqueue_job(
        EVENT_JOB,
        row.event.to_job(),
        _job_id=event_job_id(row.destination, row.event.id),
        _queue_name=routes.queue(row.destination),
        _expires=EVENT_JOB_EXPIRY,
    )
    return job is not None


async def relay_batch(runtime: Runtime, routes: Routes, limit: int) -> int:
    """Publish up to ``limit`` of this service's unpublished rows; how many.

    When Redis fails part-way, the rows already published are still marked
    and the failure is raised afterwards, for the caller to back off.
    """
    outbox = Outbox(runtime.spec.schema)
    async with unit_of_work(runtime.sessions) as session:
        rows = await outbox.claim_unpublished(session, limit)
        published, failure = await _publish_in_order(runtime.redis, routes, rows)
        await outbox.mark_published(session, published)
        if failure is not None:
            await outbox.mark_failed(session, rows[len(published)])

    if failure is not None:
        raise failure
    if published:
        log.info("outbox.relayed", count=len(published))
    return len(published)


async def _publish_in_order(
    redis: ArqRedis, routes: Routes, rows: Sequence[OutboxRow]
) -> tuple[list[OutboxRow], Exception | None]:
    published: list[OutboxRow] = []
    for row in rows:
        try:
            await publish(redis, routes, row)
        except Exception as exc:
            return published, exc
        published.append(row)
    return published, None


async def measure_outbox_lag(runtime: Runtime) -> float:
    """Set the outbox lag gauge: the age of the oldest unpublished row."""
    table = Outbox(runtime.spec.schema).table
    age = func.extract("epoch", func.now() - func.min(table.c.created_at))
    oldest = select(func.coalesce(age, 0)).where(table.c.published_at.is_(None))
    async with unit_of_work(runtime.sessions) as session:
        seconds = float(await session.scalar(oldest) or 0)
    OUTBOX_LAG.set(seconds)
    return seconds
