"""Purging one organization's rows from one service's schema.

Every service runs the same steps when ``org.purge_requested`` reaches it:
its handler schedules a purge work item (one per run, so a second request for
the same run adds nothing), and the item deletes, table by table, every row
whose ``org_id`` is the organization's. The tables are found in the catalog,
so a table added later is purged without anyone remembering to list it, and
they are emptied children first, so no foreign key stops a delete.

Each batch deletes at most ``batch_size`` rows in a short transaction of its
own, which also saves the running counts: a crash loses at most the batch in
flight, rolled back whole, and the next attempt goes on from the counts
saved. Other organizations' rows are never locked. The last step destroys
the organization's data key in this schema and announces the counts, in one
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.crypto.data_keys import destroy_data_key
from shared.events import Event
from shared.metrics import PURGE_ROWS_REMAINING
from shared.work import WorkItems, WorkRun

log = structlog.get_logger(__name__)

PURGE_WORK = "org.purge"
BATCH_SIZE = 1000

# The work item of the purge itself, and the organization's data key, which
# goes last of all; the outbox and the handled events hold ids and sealed
# payloads only, and are pruned on their own schedule.
SYSTEM_TABLES = frozenset({"work_items", "org_keys", "outbox", "handled_events"})

_NAMESPACE = uuid.UUID("6f1d8c1e-8a53-4c6e-9d0f-7b1c2a4e5f60")

_TABLES_WITH_ORG_ID = text(
    """
    select c.relname
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    join pg_attribute a on a.attrelid = c.oid
    where n.nspname = :schema and c.relkind in ('r', 'p')
      and a.attname = 'org_id' and not a.attisdropped
    """
)
_FOREIGN_KEYS = text(
    """
    select child.relname as child, parent.relname as parent
    from pg_constraint k
    join pg_class child on child.oid = k.conrelid
    join pg_class parent on parent.oid = k.confrelid
    join pg_namespace n on n.oid = child.relnamespace
    where k.contype = 'f' and n.nspname = :schema
      and child.oid <> parent.oid
    """
)

Announce = Callable[[AsyncSession, Event], Awaitable[None]]
Step = Callable[[WorkRun], Awaitable[None]]


def purge_item_id(run_id: uuid.UUID) -> uuid.UUID:
    """The id of a run's purge work item, the same in every schema."""
    return uuid.uuid5(_NAMESPACE, f"purge:{run_id}")


async def schedule_purge(session: AsyncSession, schema: str, event: Event) -> None:
    """Schedule the purge that ``org.purge_requested`` asks of this schema."""
    run_id = uuid.UUID(str(event.payload["run_id"]))
    await WorkItems(schema).schedule(
        session,
        PURGE_WORK,
        org_id=event.org_id,
        item_id=purge_item_id(run_id),
        progress={"run_id": str(run_id), "counts": {}},
    )


def purge_work(
    announce: Announce,
    *,
    keep: Collection[str] = (),
    before: Step | None = None,
    after: Step | None = None,
    batch_size: int = BATCH_SIZE,
) -> Callable[[WorkRun], Awaitable[None]]:
    """The work function of a service's purge.

    ``keep`` names tables left alone; ``before`` and ``after`` are the
    service's own steps around the rows (each must be safe to run again), and
    ``announce`` publishes ``org.purge_completed`` in the last transaction.
    """

    async def purge(run: WorkRun) -> None:
        if run.progress.get("announced"):
            return
        if before is not None:
            await before(run)
        await purge_rows(run, keep=keep, batch_size=batch_size)
        if after is not None:
            await after(run)
        await _finish(run, announce)

    return purge


async def purge_rows(
    run: WorkRun, *, keep: Collection[str] = (), batch_size: int = BATCH_SIZE
) -> None:
    """Delete every row of the run's organization from the schema's tables."""
    schema = run.runtime.spec.schema
    async with run.transaction() as session:
        tables = await tables_to_purge(session, schema, SYSTEM_TABLES | set(keep))
        remaining = await _rows_of(session, schema, tables, run.item.org_id)

    # The gauge shows operators how far the purges running here have to go.
    PURGE_ROWS_REMAINING.inc(remaining)
    deleted = 0
    try:
        for table in tables:
            while (batch := await _delete_batch(run, schema, table, batch_size)) > 0:
                deleted += batch
                PURGE_ROWS_REMAINING.dec(batch)
    finally:
        PURGE_ROWS_REMAINING.dec(max(remaining - deleted, 0))


async def _rows_of(
    session: AsyncSession, schema: str, tables: list[str], org_id: uuid.UUID | None
) -> int:
    total = 0
    for table in tables:
        counted = await session.scalar(
            text(f'select count(*) from "{schema}"."{table}" where org_id = :org'),
            {"org": org_id},
        )
        total += int(counted or 0)
    return total


async def tables_to_purge(
    session: AsyncSession, schema: str, skip: Collection[str]
) -> list[str]:
    """The schema's tables with an ``org_id`` column, children before parents."""
    found = await session.execute(_TABLES_WITH_ORG_ID, {"schema": schema})
    names = {row.relname for row in found} - set(skip)
    links = await session.execute(_FOREIGN_KEYS, {"schema": schema})
    parents: dict[str, set[str]] = {name: set() for name in names}
    for link in links:
        if link.child in names and link.parent in names:
            parents[link.child].add(link.parent)
    return _children_first(parents)


def _children_first(parents: dict[str, set[str]]) -> list[str]:
    ordered: list[str] = []
    remaining = {name: set(linked) for name, linked in parents.items()}
    while remaining:
        leaves = sorted(
            name
            for name in remaining
            if not any(name in linked for linked in remaining.values())
        )
        # A cycle of foreign keys would leave no leaf: take the rest as they
        # come, and let the batches retry until cascades have cleared them.
        batch = leaves or sorted(remaining)
        ordered.extend(batch)
        for name in batch:
            del remaining[name]
    return ordered


async def _delete_batch(run: WorkRun, schema: str, table: str, batch_size: int) -> int:
    """Delete one batch; how many rows went (0 once the table holds none)."""
    qualified = f'"{schema}"."{table}"'
    statement = text(
        f"delete from {qualified} where ctid = any(array("
        f"select ctid from {qualified} where org_id = :org limit :limit))"
    )
    async with run.transaction() as session:
        result = await session.execute(
            statement, {"org": run.item.org_id, "limit": batch_size}
        )
        deleted = int(getattr(result, "rowcount", 0))
        await run.checkpoint(session, _counted(run.progress, table, deleted))

    if deleted:
        log.info("purge.batch_done", table=table, rows=deleted)
    return deleted


def _counted(progress: dict[str, Any], table: str, deleted: int) -> dict[str, Any]:
    counts = dict(progress.get("counts", {}))
    counts[table] = counts.get(table, 0) + deleted
    return {**progress, "counts": counts}


async def _finish(run: WorkRun, announce: Announce) -> None:
    schema = run.runtime.spec.schema
    org_id = run.item.org_id
    assert org_id is not None, "a purge is always of one organization"
    async with run.transaction() as session:
        await destroy_data_key(session, schema, org_id)
        await announce(session, completed_event(run))
        await run.checkpoint(session, {**run.progress, "announced": True})

    log.info("purge.completed", run_id=run.progress.get("run_id"))


def completed_event(run: WorkRun) -> Event:
    """``org.purge_completed`` for this service, with its counts."""
    return Event(
        type="org.purge_completed",
        org_id=run.item.org_id,
        payload={
            "run_id": run.progress["run_id"],
            "service": run.runtime.spec.name,
            "counts": run.progress.get("counts", {}),
        },
    )
