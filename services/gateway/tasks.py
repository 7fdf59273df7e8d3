"""The worker of the gateway: its event handlers and its kinds of durable work.

``ojime worker gateway`` runs :func:`main`. No event handler is registered
yet: events routed here are recorded as received and otherwise ignored. The
one kind of work deletes stored Instagram deliveries when they expire.
"""

from __future__ import annotations

from services.events import ROUTES
from services.gateway import SPEC
from services.gateway.webhooks.service import DELIVERY_EXPIRY
from services.gateway.webhooks.tasks import expire_delivery
from shared.events import EventHandlers
from shared.work import WorkKinds
from shared.worker import ServiceTasks, run_worker

handlers = EventHandlers()
work_kinds = WorkKinds()
work_kinds.add(DELIVERY_EXPIRY, expire_delivery)

TASKS = ServiceTasks(spec=SPEC, handlers=handlers, work=work_kinds, routes=ROUTES)


def main() -> None:
    """Run this service's worker until it receives SIGTERM or SIGINT."""
    run_worker(TASKS)
