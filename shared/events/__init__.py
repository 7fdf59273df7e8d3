"""Events between services: the envelope, the outbox, the relay, the consumer.

A service announces a change by adding the event to its outbox in the same
transaction (:meth:`Outbox.emit`, given the consumers a :class:`Routes` table
names). The relay in its worker moves outbox rows to the consumers' queues,
and each consumer handles an event at most once (:func:`consume`).
"""

from shared.events.consumer import (
    EventContext,
    EventHandler,
    EventHandlers,
    HandledEvents,
    HandlerAlreadyRegistered,
    consume,
)
from shared.events.envelope import Event
from shared.events.outbox import Outbox, OutboxRow
from shared.events.relay import EVENT_JOB, event_job_id, publish, relay_batch
from shared.events.routing import (
    MalformedRoutes,
    Routes,
    UnknownDestination,
    UnroutedEvent,
)

__all__ = [
    "EVENT_JOB",
    "Event",
    "EventContext",
    "EventHandler",
    "EventHandlers",
    "HandledEvents",
    "HandlerAlreadyRegistered",
    "MalformedRoutes",
    "Outbox",
    "OutboxRow",
    "Routes",
    "UnknownDestination",
    "UnroutedEvent",
    "consume",
    "event_job_id",
    "publish",
    "relay_batch",
]
