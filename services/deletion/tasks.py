"""The worker of the deletion service: its event handlers and its kinds of durable work.

``ojime worker deletion`` runs :func:`main`. Its one kind of work ends a
deletion request's grace window and starts the purge. No event handler is
registered yet: the purge's own handlers and the receipt are not built, so
``org.purge_requested`` and ``org.purge_completed`` are recorded as received
and otherwise ignored, and a started purge removes nothing yet.
"""

from __future__ import annotations

from services.deletion import SPEC, service
from services.events import ROUTES
from shared.events import EventHandlers
from shared.work import WorkKinds, WorkRun
from shared.worker import ServiceTasks, run_worker

handlers = EventHandlers()
work_kinds = WorkKinds()


@work_kinds.on(service.GRACE_ENDED, max_attempts=None)
async def end_grace_window(run: WorkRun) -> None:
    """Start the purge of a request whose 24 hours are over, unless cancelled."""
    async with run.transaction() as session:
        await service.start_purge(session, run.item.id)


TASKS = ServiceTasks(spec=SPEC, handlers=handlers, work=work_kinds, routes=ROUTES)


def main() -> None:
    """Run this service's worker until it receives SIGTERM or SIGINT."""
    run_worker(TASKS)
