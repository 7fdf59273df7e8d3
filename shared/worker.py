"""Each service's arq worker, and the loops that run beside it.

A worker process reads its service's queue with arq and runs two jobs:
``handle_event`` (an event from another service, or from its own) and
``run_work_item`` (an attempt at a durable work item). Beside arq run the
outbox relay, which moves the service's committed events to their consumers,
the work sweep, which queues every work item that is due or stalled, and an
hourly pruning of old event records. All of them outlive Redis and PostgreSQL
outages: they log the first failure of an outage and its end, back off, and
carry on.

On SIGTERM a worker takes no new job, gives the jobs it is running
``OJIME_SHUTDOWN_GRACE_SECONDS`` to finish, then cancels the rest: arq puts a
cancelled job back on its queue at once, and its transaction rolls back, so
the next worker runs it from the start. An orchestrator must wait longer than
the grace before it kills the process.

Timing, as arq 0.28 does it: a job is marked in progress for its timeout plus
ten seconds, and a job whose worker was killed runs again once that mark
expires, so with the default 30-second job timeout within 40 seconds. Work
items need not wait for it: their lease (the job timeout plus five seconds)
expires first, and the sweep queues the next attempt under a new job id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import structlog
from arq.connections import ArqRedis
from arq.typing import StartupShutdown
from arq.worker import Retry, Worker, func
from pydantic import ValidationError

from shared.context import bind_log_context, clear_context
from shared.events import (
    EVENT_JOB,
    Event,
    EventHandlers,
    Routes,
    UnroutedEvent,
    consume,
)
from shared.events.relay import measure_outbox_lag, relay_batch
from shared.events.retention import prune
from shared.logging import configure_logging
from shared.metrics import (
    EVENTS_FAILED,
    EVENTS_HANDLED,
    QUEUE_DEPTH,
    WorkerMetricsSettings,
    serve_worker_metrics,
)
from shared.runtime import Runtime, open_runtime, redis_client
from shared.service import ServiceSpec
from shared.settings import ServiceSettings
from shared.work import WORK_JOB, WorkKinds, run_item, sweep

log = structlog.get_logger(__name__)

# arq refuses a job id whose result it still holds, so a relay that publishes
# an event again after a crash finds it handled; an hour outlasts a restart.
EVENT_RESULT_KEPT = timedelta(hours=1)
# With the delays below, about an hour of failing handling before an event is
# dropped. A dropped event is still in the producer's outbox, published;
# clearing its published_at sends it again.
EVENT_MAX_TRIES = 20
_EVENT_RETRY_LONGEST_SECONDS = 300
_WORK_JOB_MAX_TRIES = 5

_RUNTIME = "ojime_runtime"
_TASKS = "ojime_tasks"


@dataclass(frozen=True)
class ServiceTasks:
    """What one service's worker runs."""

    spec: ServiceSpec
    handlers: EventHandlers
    work: WorkKinds
    routes: Routes

    def __post_init__(self) -> None:
        unrouted = self.handlers.event_types - self.routes.consumed_by(self.spec.name)
        if unrouted:
            raise UnroutedEvent(
                f"{self.spec.name} has handlers for events routed elsewhere: "
                f"{', '.join(sorted(unrouted))}."
            )


@dataclass(frozen=True)
class WorkerOptions:
    """How often the loops beside arq run; tests shorten them."""

    relay_interval_seconds: float = 0.5
    relay_batch_size: int = 100
    sweep_interval_seconds: float = 10.0
    sweep_batch_size: int = 500
    prune_interval_seconds: float = 3600.0
    longest_backoff_seconds: float = 10.0
    gauge_interval_seconds: float = 5.0


def run_worker(tasks: ServiceTasks, options: WorkerOptions | None = None) -> None:
    """Run the service's worker in this process until SIGTERM or SIGINT."""
    settings = tasks.spec.settings()
    configure_logging(tasks.spec.name, settings.log_level, settings.log_format)
    # arq logs each job's arguments at INFO, and a payload can hold personal data.
    logging.getLogger("arq").setLevel(logging.WARNING)
    asyncio.run(_run(tasks, settings, options or WorkerOptions()))


async def _run(
    tasks: ServiceTasks, settings: ServiceSettings, options: WorkerOptions
) -> None:
    stop = _stop_on_signals()
    runtime = open_runtime(tasks.spec, settings)
    _log_unhandled_events(tasks)
    metrics = serve_worker_metrics(WorkerMetricsSettings())
    try:
        await serve(tasks, runtime, options, stop)
    finally:
        await runtime.close()
        if metrics is not None:
            metrics.shutdown()
    log.info("worker.stopped")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


def _log_unhandled_events(tasks: ServiceTasks) -> None:
    routed = tasks.routes.consumed_by(tasks.spec.name)
    unhandled = sorted(routed - tasks.handlers.event_types)
    if unhandled:
        log.info("worker.events_without_handler", event_types=unhandled)


async def serve(
    tasks: ServiceTasks, runtime: Runtime, options: WorkerOptions, stop: asyncio.Event
) -> None:
    """Run arq, the relay, the sweep and the pruning until ``stop`` is set."""
    loops = [
        asyncio.create_task(run_relay(runtime, tasks.routes, options)),
        asyncio.create_task(run_sweep(runtime, tasks.work, options)),
        asyncio.create_task(_run_pruning(runtime, options)),
        asyncio.create_task(_run_gauges(runtime, options)),
    ]
    try:
        await _run_arq(tasks, runtime, options, stop)
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)


async def _run_arq(
    tasks: ServiceTasks, runtime: Runtime, options: WorkerOptions, stop: asyncio.Event
) -> None:
    # arq's worker gives up when Redis is unreachable at start or goes away;
    # a new one is built once it answers again.
    outage = _Outage(
        "worker.redis_unavailable",
        "worker.redis_resumed",
        options.longest_backoff_seconds,
    )
    while not stop.is_set():
        failure = await _run_arq_once(tasks, runtime, stop, outage)
        if failure is None:
            return
        await _sleep_unless(stop, outage.failed(failure))


async def _run_arq_once(
    tasks: ServiceTasks, runtime: Runtime, stop: asyncio.Event, outage: _Outage
) -> BaseException | None:
    async def connected(ctx: dict[Any, Any]) -> None:
        outage.ended()
        log.info("worker.started", queue=tasks.spec.queue)

    redis = redis_client(runtime.settings.redis_url, tasks.spec.queue)
    worker = build_worker(tasks, runtime, redis, on_startup=connected)
    main = asyncio.create_task(worker.main())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        grace = runtime.settings.shutdown_grace_seconds if stop.is_set() else 0.0
        await close_worker(worker, main, grace)
    if stop.is_set() or main.cancelled():
        return None
    return main.exception()


def build_worker(
    tasks: ServiceTasks,
    runtime: Runtime,
    redis: ArqRedis,
    *,
    burst: bool = False,
    on_startup: StartupShutdown | None = None,
) -> Worker:
    """An arq worker for the service's queue; the caller owns ``redis``."""
    return Worker(
        functions=[
            func(
                handle_event,
                name=EVENT_JOB,
                keep_result=EVENT_RESULT_KEPT,
                max_tries=EVENT_MAX_TRIES,
            ),
            func(
                run_work_item,
                name=WORK_JOB,
                keep_result=0,
                max_tries=_WORK_JOB_MAX_TRIES,
            ),
        ],
        queue_name=tasks.spec.queue,
        redis_pool=redis,
        burst=burst,
        handle_signals=False,
        job_timeout=runtime.settings.job_timeout_seconds,
        ctx={_RUNTIME: runtime, _TASKS: tasks},
        on_startup=on_startup,
        on_job_start=_start_job,
        log_results=False,
    )


async def close_worker(
    worker: Worker, main: asyncio.Task[None], grace_seconds: float = 0.0
) -> None:
    """Stop a worker started as ``main``, and close its Redis connections.

    The worker takes no new job; those it is running get ``grace_seconds`` to
    finish, and those still running then are cancelled, which puts them back
    on the queue.
    """
    worker.allow_pick_jobs = False
    await _let_jobs_finish(worker, grace_seconds)

    jobs = [main, *worker.tasks.values()]
    for job in jobs:
        job.cancel()
    await asyncio.gather(*jobs, return_exceptions=True)
    await worker.pool.aclose(close_connection_pool=True)


async def _let_jobs_finish(worker: Worker, grace_seconds: float) -> None:
    running = [job for job in worker.tasks.values() if not job.done()]
    if not running or grace_seconds <= 0:
        return
    log.info("worker.draining", running_jobs=len(running), grace=grace_seconds)
    _, unfinished = await asyncio.wait(running, timeout=grace_seconds)
    if unfinished:
        log.warning("worker.jobs_returned", returned_jobs=len(unfinished))


async def run_burst(tasks: ServiceTasks, runtime: Runtime) -> int:
    """Run every job queued for the service now, then return how many ran."""
    redis = redis_client(runtime.settings.redis_url, tasks.spec.queue)
    worker = build_worker(tasks, runtime, redis, burst=True)
    main = asyncio.create_task(worker.main())
    try:
        await main
    finally:
        await close_worker(worker, main)
    return worker.jobs_complete + worker.jobs_failed + worker.jobs_retried


async def _start_job(ctx: dict[Any, Any]) -> None:
    clear_context()
    bind_log_context(job_id=ctx["job_id"], job_try=ctx["job_try"])


async def handle_event(ctx: dict[Any, Any], envelope: dict[str, Any]) -> None:
    """Consume one event; while its handling fails it is retried, backing off."""
    try:
        event = Event.model_validate(envelope)
    except ValidationError:
        log.error("event.malformed")
        return

    bind_log_context(
        event_id=str(event.id),
        event_type=event.type,
        org_id=str(event.org_id) if event.org_id else None,
    )
    try:
        await consume(ctx[_RUNTIME], ctx[_TASKS].handlers, event)
    except Exception as exc:
        EVENTS_FAILED.labels(event.type).inc()
        _retry_or_drop(ctx["job_try"], exc)
    else:
        EVENTS_HANDLED.labels(event.type).inc()


def _retry_or_drop(job_try: int, exc: Exception) -> None:
    if job_try >= EVENT_MAX_TRIES:
        log.error("event.dropped", tries=job_try, exc_info=exc)
        return
    log.warning("event.failed", tries=job_try, exc_info=exc)
    raise Retry(defer=min(2**job_try, _EVENT_RETRY_LONGEST_SECONDS)) from exc


async def run_work_item(ctx: dict[Any, Any], item_id: str) -> None:
    """Run one attempt at a work item.

    A failure to reach the database is only logged: the item's row is
    unchanged, so the sweep queues it again.
    """
    try:
        await run_item(ctx[_RUNTIME], ctx[_TASKS].work, UUID(item_id))
    except Exception as exc:
        log.warning("work.run_failed", exc_info=exc)


async def run_relay(runtime: Runtime, routes: Routes, options: WorkerOptions) -> None:
    """Relay the service's outbox until cancelled, at once while rows wait."""
    batch = options.relay_batch_size

    async def step() -> bool:
        return await relay_batch(runtime, routes, batch) == batch

    outage = _Outage(
        "outbox.relay_unavailable",
        "outbox.relay_resumed",
        options.longest_backoff_seconds,
    )
    await _repeat(step, options.relay_interval_seconds, outage)


async def run_sweep(runtime: Runtime, kinds: WorkKinds, options: WorkerOptions) -> None:
    """Queue the service's due and stalled work items until cancelled."""

    async def step() -> bool:
        await sweep(runtime, kinds, options.sweep_batch_size)
        return False

    outage = _Outage(
        "work.sweep_unavailable", "work.sweep_resumed", options.longest_backoff_seconds
    )
    await _repeat(step, options.sweep_interval_seconds, outage)


async def _run_pruning(runtime: Runtime, options: WorkerOptions) -> None:
    async def step() -> bool:
        await prune(runtime)
        return False

    outage = _Outage(
        "events.prune_unavailable",
        "events.prune_resumed",
        options.longest_backoff_seconds,
    )
    await _repeat(step, options.prune_interval_seconds, outage)


async def _run_gauges(runtime: Runtime, options: WorkerOptions) -> None:
    async def step() -> bool:
        await measure_outbox_lag(runtime)
        QUEUE_DEPTH.set(await runtime.redis.zcard(runtime.spec.queue))
        return False

    outage = _Outage(
        "metrics.gauges_unavailable",
        "metrics.gauges_resumed",
        options.longest_backoff_seconds,
    )
    await _repeat(step, options.gauge_interval_seconds, outage)


async def _repeat(
    step: Callable[[], Awaitable[bool]], interval: float, outage: _Outage
) -> None:
    # ``step`` says whether more is waiting; if so it runs again at once.
    while True:
        try:
            more = await step()
        except Exception as exc:
            await asyncio.sleep(outage.failed(exc))
            continue
        outage.ended()
        if not more:
            await asyncio.sleep(interval)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class _Outage:
    """Logs the first failure of an outage and its end, not every retry."""

    _FIRST_WAIT_SECONDS = 0.5

    def __init__(self, failed_event: str, resumed_event: str, longest: float) -> None:
        self.failed_event = failed_event
        self.resumed_event = resumed_event
        self.longest = longest
        self.failures = 0
        self.since = 0.0

    def failed(self, exc: BaseException) -> float:
        """Note a failure; how long to wait before the next try."""
        if not self.failures:
            self.since = time.monotonic()
            log.warning(self.failed_event, error_type=type(exc).__name__)
        self.failures += 1
        wait = self._FIRST_WAIT_SECONDS * (1 << min(self.failures - 1, 10))
        return min(wait, self.longest)

    def ended(self) -> None:
        if not self.failures:
            return
        log.info(
            self.resumed_event,
            outage_seconds=round(time.monotonic() - self.since, 1),
            retries=self.failures,
        )
        self.failures = 0
