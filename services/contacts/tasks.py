"""The worker of the contacts service: its event handlers and its kinds of durable work.

``ojime worker contacts`` runs :func:`main`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import SPEC, inbound, profiles
from services.events import ROUTES, publish
from shared import purge
from shared.events import Event, EventContext, EventHandlers
from shared.work import WorkKinds
from shared.worker import ServiceTasks, run_worker

handlers = EventHandlers()
work_kinds = WorkKinds()


@handlers.on("instagram.message_received")
async def file_instagram_message(event: Event, context: EventContext) -> None:
    """A DM, echo, postback, reaction, unsend or edit that Instagram delivered."""
    await inbound.handle(context.session, context.runtime, event)


work_kinds.add(
    profiles.PROFILE_REFRESH,
    profiles.refresh_profile,
    max_attempts=profiles.MAX_ATTEMPTS,
)


@handlers.on("org.purge_requested")
async def purge_requested(event: Event, context: EventContext) -> None:
    """Schedule the purge of everything the organization has here."""
    await purge.schedule_purge(context.session, SPEC.schema, event)


async def announce(session: AsyncSession, event: Event) -> None:
    await publish(session, event, source=SPEC)


# File storage does not exist yet, so a contacts purge deletes rows only;
# exports and attachments must be removed here once they are stored.
work_kinds.add(purge.PURGE_WORK, purge.purge_work(announce), max_attempts=None)

TASKS = ServiceTasks(spec=SPEC, handlers=handlers, work=work_kinds, routes=ROUTES)


def main() -> None:
    """Run this service's worker until it receives SIGTERM or SIGINT."""
    run_worker(TASKS)
