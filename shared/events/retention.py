"""How long the records of delivered and handled events are kept.

A published outbox row is kept for a while so that an operator can publish it
again (clearing ``published_at``) if its consumer dropped it. A handled-event
record must outlive every redelivery of its event: arq expires an unclaimed
event job after a week, and a re-publish comes from an outbox row that is kept
for two, so a month is safely past both.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from shared.db import unit_of_work
from shared.events.consumer import HandledEvents
from shared.events.outbox import Outbox
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

PUBLISHED_KEPT = timedelta(days=14)
HANDLED_KEPT = timedelta(days=30)


async def prune(runtime: Runtime) -> None:
    """Forget this service's event records that have outlived their use."""
    schema = runtime.spec.schema
    async with unit_of_work(runtime.sessions) as session:
        published = await Outbox(schema).prune_published(session, PUBLISHED_KEPT)
        handled = await HandledEvents(schema).prune(session, HANDLED_KEPT)

    if published or handled:
        log.info("events.pruned", outbox_rows=published, handled_events=handled)
