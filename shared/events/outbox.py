"""The outbox: events stored in the transaction of the change they announce.

A service never sends an event straight to Redis. It adds one outbox row per
consuming service inside the transaction that makes the change, so the event
exists exactly when the change does; the relay later moves the rows to the
consumers' queues. Everything here queries and nothing commits.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import (
    MetaData,
    RowMapping,
    Table,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared import tables
from shared.events.envelope import Event


@functools.cache
def _outbox(schema: str) -> Table:
    return tables.outbox_table(MetaData(schema=schema))


@dataclass(frozen=True)
class OutboxRow:
    """One event on its way to one consuming service."""

    event: Event
    destination: str


class Outbox:
    """The outbox table of one service's schema."""

    def __init__(self, schema: str) -> None:
        self.table = _outbox(schema)

    async def emit(
        self, session: AsyncSession, event: Event, destinations: Iterable[str]
    ) -> None:
        """Add ``event`` for each destination to the caller's transaction."""
        rows = [
            {
                "event_id": event.id,
                "destination": destination,
                "event_type": event.type,
                "org_id": event.org_id,
                "occurred_at": event.occurred_at,
                "payload": event.payload,
            }
            for destination in dict.fromkeys(destinations)
        ]
        if rows:
            await session.execute(insert(self.table), rows)

    async def claim_unpublished(
        self, session: AsyncSession, limit: int
    ) -> list[OutboxRow]:
        """The oldest unpublished rows, locked until the transaction ends.

        Rows another relay holds are skipped, so relays share the work.
        """
        table = self.table
        query = (
            select(table)
            .where(table.c.published_at.is_(None))
            .order_by(table.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await session.execute(query)
        return [_row(mapping) for mapping in result.mappings()]

    async def mark_published(
        self, session: AsyncSession, rows: Sequence[OutboxRow]
    ) -> None:
        if rows:
            await self._count_attempt(session, rows, published_at=func.now())

    async def mark_failed(self, session: AsyncSession, row: OutboxRow) -> None:
        """Count an attempt that did not reach the queue."""
        await self._count_attempt(session, [row])

    async def prune_published(self, session: AsyncSession, age: timedelta) -> int:
        """Forget rows published more than ``age`` ago; how many went."""
        table = self.table
        result = await session.execute(
            delete(table).where(table.c.published_at < func.now() - age)
        )
        return int(getattr(result, "rowcount", 0))

    async def _count_attempt(
        self, session: AsyncSession, rows: Sequence[OutboxRow], **values: object
    ) -> None:
        table = self.table
        keys = [(row.event.id, row.destination) for row in rows]
        await session.execute(
            update(table)
            .where(tuple_(table.c.event_id, table.c.destination).in_(keys))
            .values(attempts=table.c.attempts + 1, **values)
        )


def _row(values: RowMapping) -> OutboxRow:
    event = Event(
        id=values["event_id"],
        type=values["event_type"],
        org_id=values["org_id"],
        occurred_at=values["occurred_at"],
        payload=values["payload"],
    )
    return OutboxRow(event=event, destination=values["destination"])
