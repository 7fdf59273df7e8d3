"""Which service consumes which event, and publishing through the outbox.

The flows of DESIGN.md, as routes:

- ``instagram.message_received``: the gateway stored an inbound DM; contacts
  files it under its contact and conversation.
- ``conversation.message_received``: contacts stored a message; the AI agent
  decides whether to answer.
- ``contact.deleted``: contacts deleted a contact; the AI agent drops what it
  derived from it.
- ``org.purge_requested``: a purge run started. Every service purges its own
  data, the deletion service included: it receives the event like the others
  and purges the organization's rows except the run and its receipt, so the
  run treats all four services alike when it counts their answers.
- ``org.purge_completed``: a service finished its purge; the deletion service
  records its counts on the run.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import SERVICES
from shared.events import Event, Outbox, Routes
from shared.service import ServiceSpec

ROUTES = Routes(
    consumers={
        "instagram.message_received": ("contacts",),
        "conversation.message_received": ("ai_agent",),
        "contact.deleted": ("ai_agent",),
        "org.purge_requested": ("gateway", "contacts", "ai_agent", "deletion"),
        "org.purge_completed": ("deletion",),
    },
    queues={spec.name: spec.queue for spec in SERVICES},
)


async def publish(session: AsyncSession, event: Event, *, source: ServiceSpec) -> None:
    """Add ``event`` to ``source``'s outbox for every service that consumes it.

    It joins the caller's transaction and is sent only if that commits.
    """
    destinations = ROUTES.destinations(event.type)
    await Outbox(source.schema).emit(session, event, destinations)
