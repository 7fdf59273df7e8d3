"""Consuming events: each event is handled at most once by each service.

The record that an event was handled and the handler's effects commit in one
transaction. A redelivered event finds the record and changes nothing; an
event whose handling failed left no record, so its redelivery runs again.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeVar

import structlog
from sqlalchemy import MetaData, Table, delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared import tables
from shared.db import unit_of_work
from shared.errors import OjimeError
from shared.events.envelope import Event
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

# The handler name recorded for an event type this service has no handler for.
IGNORED = "ignored"

Outcome = Literal["handled", "duplicate", "ignored"]


class HandlerAlreadyRegistered(OjimeError):
    """A second handler for an event type: a service handles each type once."""

    status_code = 500
    code = "handler_already_registered"
    message = "This event type already has a handler."


@dataclass(frozen=True)
class EventContext:
    """What a handler works with.

    ``session`` is scoped to the event's organization and is committed by the
    consumer, together with the record that the event was handled.
    """

    session: AsyncSession
    runtime: Runtime


EventHandler = Callable[[Event, EventContext], Awaitable[None]]
Handler = TypeVar("Handler", bound=EventHandler)


class EventHandlers:
    """The event handlers of one service, one for each event type it acts on."""

    def __init__(self, handlers: Mapping[str, EventHandler] | None = None) -> None:
        self._handlers: dict[str, EventHandler] = {}
        for event_type, handler in (handlers or {}).items():
            self.add(event_type, handler)

    def add(self, event_type: str, handler: EventHandler) -> None:
        if event_type in self._handlers:
            raise HandlerAlreadyRegistered(f"{event_type} already has a handler.")
        self._handlers[event_type] = handler

    def on(self, event_type: str) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of ``event_type``."""

        def register(handler: Handler) -> Handler:
            self.add(event_type, handler)
            return handler

        return register

    def get(self, event_type: str) -> EventHandler | None:
        return self._handlers.get(event_type)

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self._handlers)


class HandledEvents:
    """The record of the events one service's schema has handled."""

    def __init__(self, schema: str) -> None:
        self.table = _handled_events(schema)

    async def record(self, session: AsyncSession, event: Event, handler: str) -> bool:
        """Record ``event`` as handled by ``handler``; False if it already was.

        A concurrent delivery of the same event waits here until the first
        one commits or rolls back, then knows which happened.
        """
        statement = (
            insert(self.table)
            .values(event_id=event.id, handler=handler, event_type=event.type)
            .on_conflict_do_nothing()
            .returning(self.table.c.event_id)
        )
        return await session.scalar(statement) is not None

    async def prune(self, session: AsyncSession, age: timedelta) -> int:
        """Forget events handled more than ``age`` ago; how many went."""
        table = self.table
        result = await session.execute(
            delete(table).where(table.c.handled_at < func.now() - age)
        )
        return int(getattr(result, "rowcount", 0))


@functools.cache
def _handled_events(schema: str) -> Table:
    return tables.handled_events_table(MetaData(schema=schema))


async def consume(runtime: Runtime, handlers: EventHandlers, event: Event) -> Outcome:
    """Handle ``event`` once: its effects and its record commit together."""
    handler = handlers.get(event.type)
    handled = HandledEvents(runtime.spec.schema)
    async with unit_of_work(runtime.sessions, event.org_id) as session:
        first = await handled.record(session, event, event.type if handler else IGNORED)
        if first and handler is not None:
            await handler(event, EventContext(session=session, runtime=runtime))

    outcome = _outcome(first, handler)
    log.info(_LOG_EVENTS[outcome])
    return outcome


_LOG_EVENTS: dict[Outcome, str] = {
    "handled": "event.handled",
    "duplicate": "event.duplicate",
    "ignored": "event.ignored",
}


def _outcome(first: bool, handler: EventHandler | None) -> Outcome:
    if not first:
        return "duplicate"
    return "handled" if handler is not None else "ignored"
