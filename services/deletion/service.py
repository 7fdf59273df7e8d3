"""Account deletion: the 24-hour grace window, the purge run and its receipt.

A request is due 24 hours after it is made. Its due time is kept twice, on
the request and on a work item with the request's id; the work item is what a
worker acts on, so a flushed Redis delays the purge and never loses it. Both
cancelling and starting the purge lock the request row first, so exactly one
of them wins. Nothing here commits: the request or job boundary does.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import NoReturn

import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from services.deletion import SPEC, repository
from services.deletion.errors import (
    DeletionAlreadyRunning,
    DeletionAlreadyScheduled,
    NoDeletionScheduled,
)
from services.deletion.models import CANCELLED, PURGING, SCHEDULED, DeletionRequest
from services.events import ROUTES, publish
from shared.events import Event
from shared.work import WorkItems

log = structlog.get_logger(__name__)

GRACE_WINDOW = timedelta(hours=24)
GRACE_ENDED = "deletion.grace_ended"
PURGING_SERVICES = frozenset(ROUTES.destinations("org.purge_requested"))


async def schedule(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> DeletionRequest:
    """Schedule the organization's deletion ``GRACE_WINDOW`` from now.

    Raises :class:`DeletionAlreadyScheduled` while a request is open, and
    :class:`DeletionAlreadyRunning` once its purge has started.
    """
    due_at = await repository.database_now(session) + GRACE_WINDOW
    request_id = await repository.add_request(
        session,
        {
            "id": uuid.uuid4(),
            "org_id": org_id,
            "requested_by": user_id,
            "state": SCHEDULED,
            "due_at": due_at,
        },
    )
    if request_id is None:
        await _refuse_second_request(session, org_id)

    await WorkItems(SPEC.schema).schedule(
        session, GRACE_ENDED, org_id=org_id, due_at=due_at, item_id=request_id
    )
    log.info("deletion.scheduled", request_id=str(request_id))
    return await _reread(session, org_id)


async def cancel(
    session: AsyncSession, org_id: uuid.UUID, user_id: uuid.UUID
) -> DeletionRequest:
    """Cancel the organization's scheduled deletion, while its window lasts."""
    request = await repository.open_request(session, org_id)
    if request is None:
        raise NoDeletionScheduled()
    if request.state == PURGING:
        raise DeletionAlreadyRunning()

    if not await WorkItems(SPEC.schema).cancel(session, request.id):
        # The window's end has been claimed by a worker that is about to
        # start the purge: too late to stop it.
        raise DeletionAlreadyRunning()
    request.state = CANCELLED
    request.cancelled_by = user_id
    request.cancelled_at = await repository.database_now(session)
    await session.flush()

    log.info("deletion.cancelled", request_id=str(request.id))
    return request


async def status(session: AsyncSession, org_id: uuid.UUID) -> DeletionRequest | None:
    """The organization's latest deletion request, if it ever made one."""
    return await repository.latest_request(session, org_id)


async def start_purge(session: AsyncSession, request_id: uuid.UUID) -> bool:
    """End the request's grace window: record the purge run and ask every
    service to purge. False if the request was cancelled or already started."""
    request = await repository.request_for_update(session, request_id)
    if request is None or request.state != SCHEDULED:
        return False

    request.state = PURGING
    request.started_at = await repository.database_now(session)
    await repository.add_run(session, request)

    event = Event(
        type="org.purge_requested",
        org_id=request.org_id,
        payload={"run_id": str(request.id)},
    )
    await publish(session, event, source=SPEC)
    log.info("purge.requested", run_id=str(request.id))
    return True


async def record_completion(session: AsyncSession, redis: Redis, event: Event) -> bool:
    """Note one service's finished purge on its run; once all four have
    finished, remove the organization's Redis keys and complete the receipt.
    True when this answer completed the run."""
    run = await repository.run_for_update(
        session, uuid.UUID(str(event.payload["run_id"]))
    )
    if run is None or run.completed_at is not None:
        return False

    run.counts = {**run.counts, str(event.payload["service"]): event.payload["counts"]}
    await session.flush()
    if not PURGING_SERVICES.issubset(run.counts):
        return False

    removed = await remove_redis_keys(redis, run.org_id)
    run.completed_at = await repository.database_now(session)
    log.info("purge.receipt_written", run_id=str(run.id), redis_keys=removed)
    return True


async def remove_redis_keys(redis: Redis, org_id: uuid.UUID) -> int:
    """Delete every Redis key that names the organization; how many went.

    Keys that hold the organization's data under a name without its id are
    not found this way; every service keys its per-organization entries by
    the id for that reason.
    """
    removed = 0
    async for key in redis.scan_iter(match=f"*{org_id}*", count=500):
        removed += int(await redis.delete(key))
    return removed


async def _refuse_second_request(session: AsyncSession, org_id: uuid.UUID) -> NoReturn:
    existing = await repository.open_request(session, org_id)
    if existing is not None and existing.state == PURGING:
        raise DeletionAlreadyRunning()
    raise DeletionAlreadyScheduled()


async def _reread(session: AsyncSession, org_id: uuid.UUID) -> DeletionRequest:
    request = await repository.open_request(session, org_id)
    assert request is not None, "the request was inserted in this transaction"
    return request
