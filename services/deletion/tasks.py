"""The worker of the deletion service: its event handlers and its kinds of durable work.

``ojime worker deletion`` runs :func:`main`. It ends a deletion request's
grace window and starts the purge, purges its own rows of the organization
like every service (keeping the request and the run, which are the receipt),
and collects every service's answer until the receipt is complete.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.deletion import SPEC, service
from services.deletion.models import TENANT_TABLES
from services.events import ROUTES, publish
from shared import purge
from shared.events import Event, EventContext, EventHandlers
from shared.work import WorkKinds, WorkRun
from shared.worker import ServiceTasks, run_worker

handlers = EventHandlers()
work_kinds = WorkKinds()


@work_kinds.on(service.GRACE_ENDED, max_attempts=None)
async def end_grace_window(run: WorkRun) -> None:
    """Start the purge of a request whose 24 hours are over, unless cancelled."""
    async with run.transaction() as session:
        await service.start_purge(session, run.item.id)


@handlers.on("org.purge_requested")
async def purge_requested(event: Event, context: EventContext) -> None:
    """Schedule the purge of the organization's rows here, but the receipt."""
    await purge.schedule_purge(context.session, SPEC.schema, event)


@handlers.on("org.purge_completed")
async def purge_completed(event: Event, context: EventContext) -> None:
    """Count one service's finished purge towards the receipt."""
    await service.record_completion(context.session, context.runtime.redis, event)


async def announce(session: AsyncSession, event: Event) -> None:
    await publish(session, event, source=SPEC)


work_kinds.add(
    purge.PURGE_WORK,
    purge.purge_work(announce, keep=TENANT_TABLES),
    max_attempts=None,
)

TASKS = ServiceTasks(spec=SPEC, handlers=handlers, work=work_kinds, routes=ROUTES)


def main() -> None:
    """Run this service's worker until it receives SIGTERM or SIGINT."""
    run_worker(TASKS)
