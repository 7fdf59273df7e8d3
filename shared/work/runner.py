"""Running work items: the kinds a service knows, one attempt, the sweep.

A worker claims a due item, runs the function registered for its kind, then
completes it, runs it again later, or records the failure and backs off. A
worker that dies lets its lease expire and the sweep queues the item again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

import structlog
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import bind_log_context
from shared.db import unit_of_work
from shared.errors import OjimeError
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.work.items import FAILED, WorkItem, WorkItems, WorkLeaseLost

log = structlog.get_logger(__name__)

WORK_JOB = "run_work_item"
DEFAULT_MAX_ATTEMPTS = 10

# A run cannot outlast the job timeout (arq cancels it); the grace covers
# writing its outcome after the last step.
LEASE_GRACE = timedelta(seconds=5)


class WorkKindAlreadyRegistered(OjimeError):
    """A second function for a kind of work."""

    status_code = 500
    code = "work_kind_already_registered"
    message = "This kind of work already has a function."


@dataclass(frozen=True)
class RunAgain:
    """What a work function returns to be run again, progress kept, later."""

    delay: timedelta = timedelta(0)


WorkFunction = Callable[["WorkRun"], Awaitable[RunAgain | None]]
Function = TypeVar("Function", bound=WorkFunction)


@dataclass(frozen=True)
class WorkKind:
    """A kind of work and how it runs.

    Each claim spends an attempt, a run that asks to run again included, so a
    kind that works in many steps should set ``max_attempts`` to ``None``: it
    then retries, with a backoff of at most an hour, until it succeeds.
    """

    function: WorkFunction
    max_attempts: int | None = DEFAULT_MAX_ATTEMPTS


class WorkKinds:
    """The kinds of work one service runs, each with its function."""

    def __init__(self) -> None:
        self._kinds: dict[str, WorkKind] = {}

    def add(
        self,
        kind: str,
        function: WorkFunction,
        *,
        max_attempts: int | None = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        if kind in self._kinds:
            raise WorkKindAlreadyRegistered(f"{kind} already has a function.")
        self._kinds[kind] = WorkKind(function, max_attempts)

    def on(
        self, kind: str, *, max_attempts: int | None = DEFAULT_MAX_ATTEMPTS
    ) -> Callable[[Function], Function]:
        """Register the decorated function as the runner of ``kind``."""

        def register(function: Function) -> Function:
            self.add(kind, function, max_attempts=max_attempts)
            return function

        return register

    def get(self, kind: str) -> WorkKind | None:
        return self._kinds.get(kind)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._kinds)


def lease_for(settings: ServiceSettings) -> timedelta:
    """How long a claim holds an item: the job timeout, plus a grace."""
    return timedelta(seconds=settings.job_timeout_seconds) + LEASE_GRACE


def work_job_id(item_id: UUID, attempts: int) -> str:
    """The arq job id that wakes a worker for an item's next attempt.

    The attempt count is part of it so that a stalled item gets a new job at
    once: the dead attempt's job keeps its id in arq until arq's in-progress
    key expires.
    """
    return f"work:{item_id}:{attempts}"


async def enqueue_item(
    redis: ArqRedis, queue: str, item_id: UUID, attempts: int
) -> bool:
    """Wake a worker for the item; False if arq already has that job."""
    job = await redis.enqueue_job(
        WORK_JOB,
        str(item_id),
        _job_id=work_job_id(item_id, attempts),
        _queue_name=queue,
    )
    return job is not None


@dataclass
class WorkRun:
    """One attempt at a work item, as the function of its kind sees it."""

    item: WorkItem
    runtime: Runtime
    lease: timedelta
    progress: dict[str, Any] = field(default_factory=dict)

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A unit of work scoped to the item's organization."""
        return unit_of_work(self.runtime.sessions, self.item.org_id)

    async def checkpoint(self, session: AsyncSession, progress: dict[str, Any]) -> None:
        """Save ``progress`` and renew the lease in ``session``'s transaction.

        If another attempt has taken the item over this raises
        :class:`WorkLeaseLost`, and the work of that transaction is rolled
        back with it.
        """
        items = WorkItems(self.runtime.spec.schema)
        await items.checkpoint(session, self.item, self.lease, progress)
        self.progress = progress

    async def heartbeat(self) -> None:
        """Renew the lease in a transaction of its own."""
        async with unit_of_work(self.runtime.sessions) as session:
            await WorkItems(self.runtime.spec.schema).checkpoint(
                session, self.item, self.lease
            )


async def sweep(runtime: Runtime, kinds: WorkKinds, limit: int = 500) -> int:
    """Queue a job for every item that is due or stalled; how many were new.

    Items of a kind this worker does not know are left to a worker that does.
    """
    if not kinds.names:
        return 0
    async with unit_of_work(runtime.sessions) as session:
        ready = await WorkItems(runtime.spec.schema).ready(session, kinds.names, limit)

    queued = 0
    for item_id, attempts in ready:
        queued += await enqueue_item(
            runtime.redis, runtime.spec.queue, item_id, attempts
        )
    if queued:
        log.info("work.swept", queued=queued)
    return queued


async def run_item(runtime: Runtime, kinds: WorkKinds, item_id: UUID) -> None:
    """Run one attempt at the item, if it is ready, and record how it went."""
    items = WorkItems(runtime.spec.schema)
    lease = lease_for(runtime.settings)
    async with unit_of_work(runtime.sessions) as session:
        item = await items.claim(session, item_id, lease, kinds.names)
    if item is None:
        return

    bind_log_context(
        work_item_id=str(item.id),
        work_kind=item.kind,
        org_id=str(item.org_id) if item.org_id else None,
    )
    kind = kinds.get(item.kind)
    assert kind is not None, "claim only takes items of known kinds"
    try:
        await _attempt(WorkRun(item, runtime, lease, dict(item.progress)), kind)
    except WorkLeaseLost:
        log.warning("work.lease_lost", attempts=item.attempts)


async def _attempt(run: WorkRun, kind: WorkKind) -> None:
    item = run.item
    if kind.max_attempts is not None and item.attempts > kind.max_attempts:
        await _record_failure(run, kind, "WorkStalled")
        return

    try:
        outcome = await kind.function(run)
    except WorkLeaseLost:
        raise
    except Exception as exc:
        log.warning("work.attempt_failed", attempts=item.attempts, exc_info=exc)
        await _record_failure(run, kind, type(exc).__name__)
        return
    await _record_success(run, outcome)


async def _record_failure(run: WorkRun, kind: WorkKind, error: str) -> None:
    items = WorkItems(run.runtime.spec.schema)
    async with run.transaction() as session:
        state = await items.fail(session, run.item, error, kind.max_attempts)

    if state == FAILED:
        log.error("work.gave_up", attempts=run.item.attempts, error_type=error)


async def _record_success(run: WorkRun, outcome: RunAgain | None) -> None:
    items = WorkItems(run.runtime.spec.schema)
    async with run.transaction() as session:
        if outcome is None:
            await items.complete(session, run.item, run.progress)
        else:
            await items.run_again(session, run.item, outcome.delay, run.progress)

    if outcome is None:
        log.info("work.completed", attempts=run.item.attempts)
        return
    log.info("work.run_again", delay_seconds=outcome.delay.total_seconds())
    if not outcome.delay:
        await _wake(run)


async def _wake(run: WorkRun) -> None:
    # Only to save the wait for the next sweep, which queues the item anyway.
    runtime = run.runtime
    try:
        await enqueue_item(
            runtime.redis, runtime.spec.queue, run.item.id, run.item.attempts
        )
    except Exception as exc:
        log.info("work.wake_failed", error_type=type(exc).__name__)
