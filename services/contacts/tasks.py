"""The worker of the contacts service: its event handlers and its kinds of durable work.

``ojime worker contacts`` runs :func:`main`.
"""

from __future__ import annotations

from services.contacts import SPEC, inbound, profiles
from services.events import ROUTES
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

TASKS = ServiceTasks(spec=SPEC, handlers=handlers, work=work_kinds, routes=ROUTES)


def main() -> None:
    """Run this service's worker until it receives SIGTERM or SIGINT."""
    run_worker(TASKS)
