"""Work items in Postgres: scheduling, claiming, and every change of state.

Every change after a claim is fenced by the attempt number the claim returned:
a worker that stalled past its lease, and whose item another attempt has since
claimed, changes nothing. Everything here queries and nothing commits.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    ColumnElement,
    MetaData,
    RowMapping,
    Table,
    and_,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared import tables
from shared.errors import OjimeError

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"

_RETRY_FIRST_DELAY = timedelta(seconds=10)
_RETRY_LONGEST_DELAY = timedelta(hours=1)


class WorkLeaseLost(OjimeError):
    """The item's lease expired and another attempt has claimed it since."""

    status_code = 409
    code = "work_lease_lost"
    message = "This work item is now held by another attempt."


@dataclass(frozen=True)
class WorkItem:
    """A work item as it was read, or as a claim left it."""

    id: UUID
    kind: str
    org_id: UUID | None
    state: str
    due_at: datetime
    attempts: int
    progress: dict[str, Any]
    last_error: str | None


@functools.cache
def _work_items(schema: str) -> Table:
    return tables.work_items_table(MetaData(schema=schema))


class WorkItems:
    """The work items of one service's schema. Queries only: callers commit."""

    def __init__(self, schema: str) -> None:
        self.table = _work_items(schema)

    async def schedule(
        self,
        session: AsyncSession,
        kind: str,
        *,
        org_id: UUID | None,
        due_at: datetime | None = None,
        progress: dict[str, Any] | None = None,
        item_id: UUID | None = None,
    ) -> UUID:
        """Add a pending item, due at ``due_at`` or now, to the transaction.

        Scheduling again with the same ``item_id`` adds nothing, so a caller
        that retries does not schedule the work twice.
        """
        item_id = item_id or uuid4()
        await session.execute(
            insert(self.table)
            .values(
                id=item_id,
                kind=kind,
                org_id=org_id,
                due_at=due_at if due_at is not None else func.now(),
                progress=progress or {},
            )
            .on_conflict_do_nothing()
        )
        return item_id

    async def get(self, session: AsyncSession, item_id: UUID) -> WorkItem | None:
        row = (
            (
                await session.execute(
                    select(self.table).where(self.table.c.id == item_id)
                )
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else _item(row)

    async def claim(
        self,
        session: AsyncSession,
        item_id: UUID,
        lease: timedelta,
        kinds: Collection[str],
    ) -> WorkItem | None:
        """Start a new attempt at the item if it is ready; None if it is not.

        Ready means pending and due, or running with its lease expired. The
        claim marks it running, leases it for ``lease`` and counts the attempt.
        """
        table = self.table
        ready = (
            select(table.c.id)
            .where(
                table.c.id == item_id, table.c.kind.in_(sorted(kinds)), self._ready()
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed = await session.execute(
            update(table)
            .where(table.c.id == ready)
            .values(
                state=RUNNING,
                attempts=table.c.attempts + 1,
                lease_expires_at=func.now() + lease,
                updated_at=func.now(),
            )
            .returning(table)
        )
        row = claimed.mappings().one_or_none()
        return None if row is None else _item(row)

    async def ready(
        self, session: AsyncSession, kinds: Collection[str], limit: int
    ) -> list[tuple[UUID, int]]:
        """Items due or stalled, the longest due first, as (id, attempts)."""
        table = self.table
        rows = await session.execute(
            select(table.c.id, table.c.attempts)
            .where(table.c.kind.in_(sorted(kinds)), self._ready())
            .order_by(table.c.due_at)
            .limit(limit)
        )
        return [(row.id, row.attempts) for row in rows]

    async def checkpoint(
        self,
        session: AsyncSession,
        item: WorkItem,
        lease: timedelta,
        progress: dict[str, Any] | None = None,
    ) -> None:
        """Renew the lease of ``item``'s attempt and save its progress."""
        values: dict[str, Any] = {"lease_expires_at": func.now() + lease}
        if progress is not None:
            values["progress"] = progress
        await self._change_own(session, item, **values)

    async def complete(
        self, session: AsyncSession, item: WorkItem, progress: dict[str, Any]
    ) -> None:
        await self._change_own(
            session,
            item,
            state=DONE,
            lease_expires_at=None,
            progress=progress,
            last_error=None,
        )

    async def run_again(
        self,
        session: AsyncSession,
        item: WorkItem,
        delay: timedelta,
        progress: dict[str, Any],
    ) -> None:
        """Hand the item back, due after ``delay``, with its progress."""
        await self._change_own(
            session,
            item,
            state=PENDING,
            due_at=func.now() + delay,
            lease_expires_at=None,
            progress=progress,
            last_error=None,
        )

    async def fail(
        self,
        session: AsyncSession,
        item: WorkItem,
        error: str,
        max_attempts: int | None,
    ) -> str:
        """Record a failed attempt: retried after a backoff, or given up.

        ``error`` is stored as given; pass the error's type, not its message,
        which can quote personal data. Returns the item's new state.
        """
        gave_up = max_attempts is not None and item.attempts >= max_attempts
        state = FAILED if gave_up else PENDING
        await self._change_own(
            session,
            item,
            state=state,
            due_at=func.now() + retry_delay(item.attempts),
            lease_expires_at=None,
            last_error=error,
        )
        return state

    async def cancel(self, session: AsyncSession, item_id: UUID) -> bool:
        """Cancel the item if no attempt has started; False if one has."""
        table = self.table
        cancelled = await session.execute(
            update(table)
            .where(table.c.id == item_id, table.c.state == PENDING)
            .values(state=CANCELLED, updated_at=func.now())
            .returning(table.c.id)
        )
        return cancelled.first() is not None

    def _ready(self) -> ColumnElement[bool]:
        table = self.table
        return or_(
            and_(table.c.state == PENDING, table.c.due_at <= func.now()),
            and_(table.c.state == RUNNING, table.c.lease_expires_at <= func.now()),
        )

    async def _change_own(
        self, session: AsyncSession, item: WorkItem, **values: Any
    ) -> None:
        table = self.table
        changed = await session.execute(
            update(table)
            .where(
                table.c.id == item.id,
                table.c.state == RUNNING,
                table.c.attempts == item.attempts,
            )
            .values(updated_at=func.now(), **values)
            .returning(table.c.id)
        )
        if changed.first() is None:
            raise WorkLeaseLost()


def _item(row: RowMapping) -> WorkItem:
    return WorkItem(
        id=row["id"],
        kind=row["kind"],
        org_id=row["org_id"],
        state=row["state"],
        due_at=row["due_at"],
        attempts=row["attempts"],
        progress=dict(row["progress"]),
        last_error=row["last_error"],
    )


def retry_delay(attempts: int) -> timedelta:
    """How long a failed item waits: doubling from ten seconds to an hour."""
    doublings = min(max(attempts - 1, 0), 20)
    return min(_RETRY_FIRST_DELAY * (1 << doublings), _RETRY_LONGEST_DELAY)
