"""Durable work: the row in Postgres is the truth, arq only wakes a worker.

A work item is one piece of long-running or scheduled work: a purge, a
campaign, an export, the end of a deletion's grace window. Its row says what
it is, when it is due, which attempt holds it and until when (the lease), how
far it got and why it last failed. A crash, a timeout or a flushed Redis
delays work and loses none of it: the periodic sweep queues every item that is
due, or whose lease has expired, again.
"""

from shared.work.items import (
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    WorkItem,
    WorkItems,
    WorkLeaseLost,
    retry_delay,
)
from shared.work.runner import (
    DEFAULT_MAX_ATTEMPTS,
    LEASE_GRACE,
    WORK_JOB,
    RunAgain,
    WorkFunction,
    WorkKind,
    WorkKindAlreadyRegistered,
    WorkKinds,
    WorkRun,
    enqueue_item,
    lease_for,
    run_item,
    sweep,
    work_job_id,
)

__all__ = [
    "CANCELLED",
    "DEFAULT_MAX_ATTEMPTS",
    "DONE",
    "FAILED",
    "LEASE_GRACE",
    "PENDING",
    "RUNNING",
    "WORK_JOB",
    "RunAgain",
    "WorkFunction",
    "WorkItem",
    "WorkItems",
    "WorkKind",
    "WorkKindAlreadyRegistered",
    "WorkKinds",
    "WorkLeaseLost",
    "WorkRun",
    "enqueue_item",
    "lease_for",
    "retry_delay",
    "run_item",
    "sweep",
    "work_job_id",
]
