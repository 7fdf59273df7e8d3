"""Master key rotation: re-seal what older master keys sealed, without downtime.

The procedure:

1. Add a key with a higher version to the ring (:meth:`KeyRing.with_new_key`)
   and give the new ring to every process (``OJIME_MASTER_KEYS``, or in
   development the key file, through ``save_master_keys``). New values are
   sealed with the new key from then on, and old ones still open because the
   ring still holds the old key.
2. Run :func:`rotate_services` (``ojime rotate-master-key``). In each service
   schema it re-wraps every organization's data key and re-seals every
   registered column (:mod:`shared.crypto.columns`) under the newest key, in
   batches of short transactions, while the services keep serving.
3. Once every report shows nothing remaining, drop the old key from the ring.
   Backups taken before the rotation then no longer open either.

A row is rewritten only if it still holds the value that was read, so a
writer that changed it meanwhile is never overwritten. Should that writer
have sealed with an older ring, the row is counted as remaining, and running
the rotation again finishes it.

Rotation reads every row of a table whatever organization it belongs to, so
it connects as the owner (``DATABASE_URL``), and that role must see past
row-level security: a superuser, or a role with BYPASSRLS. It checks this
before it starts rather than silently skipping rows it cannot see.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import ColumnElement, LargeBinary, Select, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared.crypto.cipher import version_prefix
from shared.crypto.columns import SEALED_COLUMNS, SealedColumn, SealedColumnRegistry
from shared.crypto.data_keys import wrapped_keys_column
from shared.crypto.errors import CryptoError
from shared.crypto.keyring import KeyRing
from shared.db import async_url
from shared.service import ServiceSpec

log = structlog.get_logger(__name__)

DEFAULT_BATCH_SIZE = 500


class RotationRefused(CryptoError):
    """Rotation would miss rows: an unknown schema, or rows it cannot see."""


@dataclass
class ColumnRotation:
    """What rotation did to one column."""

    column: str
    resealed: int = 0
    changed_concurrently: int = 0
    remaining: int = 0


@dataclass
class RotationReport:
    """What rotation did in one schema, column by column."""

    schema: str
    key_version: int
    columns: list[ColumnRotation] = field(default_factory=list)

    @property
    def resealed(self) -> int:
        return sum(column.resealed for column in self.columns)

    @property
    def remaining(self) -> int:
        """Values still sealed with an older key; zero means the old key can go."""
        return sum(column.remaining for column in self.columns)


@dataclass(frozen=True)
class BatchResult:
    resealed: int
    changed_concurrently: int
    last_row_id: Any


async def rotate_services(
    database_url: str,
    ring: KeyRing,
    specs: Iterable[ServiceSpec],
    registry: SealedColumnRegistry = SEALED_COLUMNS,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[RotationReport]:
    """Rotate every service's schema to ``ring``'s newest key, one after another.

    ``database_url`` is the owner's address. Each service's ``models`` module
    is imported first, so that the columns it registers are rotated too.
    """
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    try:
        return [
            await _rotate_service(engine, spec, ring, registry, batch_size)
            for spec in specs
        ]
    finally:
        await engine.dispose()


async def _rotate_service(
    engine: AsyncEngine,
    spec: ServiceSpec,
    ring: KeyRing,
    registry: SealedColumnRegistry,
    batch_size: int,
) -> RotationReport:
    # A service registers its sealed columns when its models module loads.
    importlib.import_module(f"{spec.package}.models")
    return await rotate_master_key(
        engine, spec.schema, ring, registry, batch_size=batch_size
    )


async def rotate_master_key(
    engine: AsyncEngine,
    schema: str,
    ring: KeyRing,
    registry: SealedColumnRegistry = SEALED_COLUMNS,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> RotationReport:
    """Re-wrap ``schema``'s data keys and re-seal its registered columns."""
    report = RotationReport(schema, ring.current_version)
    for column in await columns_to_rotate(engine, schema, registry):
        report.columns.append(await _rotate_column(engine, column, ring, batch_size))

    log.info(
        "rotation.finished",
        schema=schema,
        key_version=report.key_version,
        resealed=report.resealed,
        remaining=report.remaining,
    )
    return report


async def columns_to_rotate(
    engine: AsyncEngine, schema: str, registry: SealedColumnRegistry
) -> list[SealedColumn]:
    """The schema's wrapped data keys, if it keeps any, and its registered columns.

    Raises :class:`RotationRefused` if the schema does not exist, or if
    row-level security would hide rows of one of the tables.
    """
    async with engine.connect() as connection:
        if not await _schema_exists(connection, schema):
            raise RotationRefused(f"there is no schema {schema}")
        columns = list(registry.in_schema(schema))
        if await _table_exists(connection, schema, "org_keys"):
            columns.insert(0, wrapped_keys_column(schema))
        for column in columns:
            await _check_every_row_visible(connection, column)
    return columns


async def reseal_batches(
    engine: AsyncEngine,
    column: SealedColumn,
    ring: KeyRing,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> AsyncIterator[BatchResult]:
    """Re-seal ``column`` under the newest key, yielding after each committed batch.

    Between batches the column holds values under old and new keys alike, and
    every one of them opens with ``ring``.
    """
    after: Any = None
    while True:
        async with engine.begin() as connection:
            batch = await _reseal_batch(connection, column, ring, after, batch_size)
        if batch is None:
            return

        log.info(
            "rotation.batch_done",
            column=column.name,
            resealed=batch.resealed,
            changed_concurrently=batch.changed_concurrently,
        )
        yield batch
        after = batch.last_row_id


async def count_outdated(
    engine: AsyncEngine, column: SealedColumn, version: int
) -> int:
    """How many values of ``column`` are sealed with a key other than ``version``."""
    query = (
        select(func.count()).select_from(column.table).where(_outdated(column, version))
    )
    async with engine.connect() as connection:
        return int(await connection.scalar(query) or 0)


async def _rotate_column(
    engine: AsyncEngine, column: SealedColumn, ring: KeyRing, batch_size: int
) -> ColumnRotation:
    result = ColumnRotation(column.name)
    async for batch in reseal_batches(engine, column, ring, batch_size=batch_size):
        result.resealed += batch.resealed
        result.changed_concurrently += batch.changed_concurrently

    result.remaining = await count_outdated(engine, column, ring.current_version)
    return result


async def _reseal_batch(
    connection: AsyncConnection,
    column: SealedColumn,
    ring: KeyRing,
    after: Any,
    batch_size: int,
) -> BatchResult | None:
    query = _outdated_rows(column, ring.current_version, after, batch_size)
    rows = (await connection.execute(query)).all()
    if not rows:
        return None

    resealed = 0
    for row_id, sealed in rows:
        resealed += await _reseal_row(connection, column, ring, row_id, sealed)
    return BatchResult(resealed, len(rows) - resealed, rows[-1][0])


async def _reseal_row(
    connection: AsyncConnection,
    column: SealedColumn,
    ring: KeyRing,
    row_id: Any,
    sealed: bytes,
) -> bool:
    table = column.table
    fresh = column.seal(ring, column.open(ring, sealed, row_id), row_id)
    values: dict[str, object] = {column.column: fresh}
    if column.version_column is not None:
        values[column.version_column] = ring.current_version

    # Only if the row still holds what was read: a concurrent write wins.
    result = await connection.execute(
        update(table)
        .where(table.c[column.key_column] == row_id)
        .where(table.c[column.column] == sealed)
        .values(values)
    )
    return result.rowcount == 1


def _outdated_rows(
    column: SealedColumn, version: int, after: Any, limit: int
) -> Select[Any]:
    key = column.table.c[column.key_column]
    query = (
        select(key, column.table.c[column.column])
        .where(_outdated(column, version))
        .order_by(key)
        .limit(limit)
    )
    return query if after is None else query.where(key > after)


def _outdated(column: SealedColumn, version: int) -> ColumnElement[bool]:
    # The header, not a version column, is the truth: it is what opens the value.
    prefix = version_prefix(version)
    header = func.substring(
        column.table.c[column.column], 1, len(prefix), type_=LargeBinary
    )
    return header != prefix


async def _schema_exists(connection: AsyncConnection, schema: str) -> bool:
    query = text("select exists (select from pg_namespace where nspname = :schema)")
    return bool(await connection.scalar(query, {"schema": schema}))


async def _table_exists(connection: AsyncConnection, schema: str, table: str) -> bool:
    query = text(
        "select to_regclass(quote_ident(:schema) || '.' || quote_ident(:table)) "
        "is not null"
    )
    return bool(await connection.scalar(query, {"schema": schema, "table": table}))


async def _check_every_row_visible(
    connection: AsyncConnection, column: SealedColumn
) -> None:
    query = text(
        "select row_security_active("
        "(quote_ident(:schema) || '.' || quote_ident(:table))::regclass)"
    )
    hidden = await connection.scalar(
        query, {"schema": column.schema, "table": column.table.name}
    )
    if hidden:
        raise RotationRefused(
            f"row-level security hides rows of {column.table.fullname} from this "
            "role; rotate as a superuser or a role with BYPASSRLS"
        )
