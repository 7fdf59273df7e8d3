"""The worker of the gateway: its event handlers and its kinds of durable work.

``ojime worker gateway`` runs :func:`main`. It purges an organization when
asked, and deletes stored Instagram deliveries when they expire.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.events import ROUTES, publish
from services.gateway import SPEC
from services.gateway.purge import (
    remember_members,
    remove_organization_and_lone_members,
)
from services.gateway.webhooks.service import DELIVERY_EXPIRY
from services.gateway.webhooks.tasks import expire_delivery
from shared import purge
from shared.events import Event, EventContext, EventHandlers
from shared.work import WorkKinds
from shared.worker import ServiceTasks, run_worker

handlers = EventHandlers()
work_kinds = WorkKinds()
work_kinds.add(DELIVERY_EXPIRY, expire_delivery)


@handlers.on("org.purge_requested")
async def purge_requested(event: Event, context: EventContext) -> None:
    """Schedule the purge of the organization's accounts, team and log."""
    await purge.schedule_purge(context.session, SPEC.schema, event)


async def announce(session: AsyncSession, event: Event) -> None:
    await publish(session, event, source=SPEC)


# The organization's files: the gateway stores none.
work_kinds.add(
    purge.PURGE_WORK,
    purge.purge_work(
        announce,
        before=remember_members,
        after=remove_organization_and_lone_members,
    ),
    max_attempts=None,
)

TASKS = ServiceTasks(spec=SPEC, handlers=handlers, work=work_kinds, routes=ROUTES)


def main() -> None:
    """Run this service's worker until it receives SIGTERM or SIGINT."""
    run_worker(TASKS)
