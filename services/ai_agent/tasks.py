"""The worker of the AI agent: its event handlers and its kinds of durable work.

``ojime worker ai_agent`` runs :func:`main`. Its one handler purges an
organization when asked; other events routed here are recorded as received
and otherwise ignored.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.ai_agent import SPEC
from services.events import ROUTES, publish
from shared import purge
from shared.events import Event, EventContext, EventHandlers
from shared.work import WorkKinds
from shared.worker import ServiceTasks, run_worker

handlers = EventHandlers()
work_kinds = WorkKinds()


@handlers.on("org.purge_requested")
async def purge_requested(event: Event, context: EventContext) -> None:
    """Schedule the purge of everything the organization has here."""
    await purge.schedule_purge(context.session, SPEC.schema, event)


async def announce(session: AsyncSession, event: Event) -> None:
    await publish(session, event, source=SPEC)


# The AI agent keeps no files and no domain tables yet; the purge still
# destroys its data key and answers with its counts.
work_kinds.add(purge.PURGE_WORK, purge.purge_work(announce), max_attempts=None)

TASKS = ServiceTasks(spec=SPEC, handlers=handlers, work=work_kinds, routes=ROUTES)


def main() -> None:
    """Run this service's worker until it receives SIGTERM or SIGINT."""
    run_worker(TASKS)
