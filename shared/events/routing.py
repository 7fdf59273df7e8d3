"""Which services consume each event type, and the queue each service reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from shared.errors import OjimeError
from shared.events.envelope import EVENT_TYPE_PATTERN


class UnroutedEvent(OjimeError):
    """An event type that no route names: publishing it would reach nobody."""

    status_code = 500
    code = "unrouted_event"
    message = "This event type has no consumers."


class MalformedRoutes(OjimeError):
    """A routing table with an event type that is not dotted, or a consuming
    service that has no queue."""

    status_code = 500
    code = "malformed_routes"
    message = "The routing table is not valid."


class UnknownDestination(OjimeError):
    """An outbox row addressed to a service that has no queue."""

    status_code = 500
    code = "unknown_destination"
    message = "This destination has no queue."


@dataclass(frozen=True)
class Routes:
    """The routing table: event type to consuming services, service to queue."""

    consumers: Mapping[str, tuple[str, ...]]
    queues: Mapping[str, str]

    def __post_init__(self) -> None:
        for event_type, services in self.consumers.items():
            if not re.match(EVENT_TYPE_PATTERN, event_type):
                raise MalformedRoutes(f"{event_type!r} is not dotted.")
            unknown = set(services) - set(self.queues)
            if unknown:
                raise MalformedRoutes(f"{event_type} goes to a service with no queue.")

    def destinations(self, event_type: str) -> tuple[str, ...]:
        """The services that consume ``event_type``."""
        try:
            return self.consumers[event_type]
        except KeyError:
            raise UnroutedEvent(f"No route for {event_type}.") from None

    def queue(self, destination: str) -> str:
        """The arq queue that ``destination``'s worker reads."""
        try:
            return self.queues[destination]
        except KeyError:
            raise UnknownDestination(f"No queue for {destination}.") from None

    def consumed_by(self, service: str) -> frozenset[str]:
        """The event types routed to ``service``."""
        return frozenset(
            event_type
            for event_type, services in self.consumers.items()
            if service in services
        )
