"""Master key rotation re-seals every row, reads never stop, writers win.

Each test builds a schema of its own shaped like a service's (the same system
tables, ``org_keys`` among them) plus a ``vault`` table of master-key
ciphertexts registered for rotation. The test then owns every row it rotates,
so neither the services' schemas nor their development keys change.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Column, LargeBinary, MetaData, Table, Uuid, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.contacts import SPEC as CONTACTS
from services.registry import SERVICES
from shared.crypto.cipher import sealed_key_version
from shared.crypto.columns import SEALED_COLUMNS, SealedColumn, SealedColumnRegistry
from shared.crypto.data_keys import (
    get_or_create_data_key,
    load_data_key,
    wrapped_keys_column,
)
from shared.crypto.keyring import KeyRing
from shared.crypto.rotation import (
    RotationRefused,
    count_outdated,
    reseal_batches,
    rotate_master_key,
    rotate_services,
)
from shared.migrations import tenant_table_sql
from shared.runtime import open_runtime
from shared.secrets import load_secrets
from shared.settings import CommonSettings
from shared.tables import add_system_tables
from tests.conftest import Stores

ORGS = 5
VAULT_ROWS = 23
PERSON_CELL = {"table": "contacts.people", "column": "email"}


@dataclass
class Estate:
    """A rotatable schema, its rows' plaintexts, and the rings around it."""

    schema: str
    vault: SealedColumn
    registry: SealedColumnRegistry
    old: KeyRing
    new: KeyRing
    secrets: dict[uuid.UUID, bytes]
    personal: dict[uuid.UUID, bytes]


def _vault(schema: str) -> Table:
    metadata = MetaData(schema=schema)
    add_system_tables(metadata)
    return Table(
        "vault",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("secret", LargeBinary, nullable=True),
    )


@pytest.fixture
async def estate(owner_engine: AsyncEngine) -> AsyncIterator[Estate]:
    schema = f"rotation_{uuid.uuid4().hex[:8]}"
    vault = _vault(schema)
    async with owner_engine.begin() as connection:
        await connection.execute(text(f"create schema {schema}"))
        await connection.run_sync(vault.metadata.create_all)

    registry = SealedColumnRegistry()
    column = registry.register(SealedColumn(vault, "secret"))
    old = KeyRing.generate()
    estate = Estate(schema, column, registry, old, old.with_new_key(), {}, {})
    await _fill_vault(owner_engine, estate)
    await _make_data_keys(owner_engine, estate)
    yield estate

    async with owner_engine.begin() as connection:
        await connection.execute(text(f"drop schema {schema} cascade"))


async def _fill_vault(engine: AsyncEngine, estate: Estate) -> None:
    table = estate.vault.table
    async with engine.begin() as connection:
        for number in range(VAULT_ROWS):
            row = uuid.uuid4()
            estate.secrets[row] = f"token-{number}".encode()
            sealed = estate.vault.seal(estate.old, estate.secrets[row], row)
            await connection.execute(table.insert().values(id=row, secret=sealed))
        await connection.execute(table.insert().values(id=uuid.uuid4(), secret=None))


async def _make_data_keys(engine: AsyncEngine, estate: Estate) -> None:
    async with async_sessionmaker(engine)() as session:
        for number in range(ORGS):
            org = uuid.uuid4()
            key = await get_or_create_data_key(session, estate.schema, org, estate.old)
            plaintext = f"person-{number}@example.com".encode()
            estate.personal[org] = key.seal(plaintext, row_id=org, **PERSON_CELL)
        await session.commit()


async def _vault_rows(engine: AsyncEngine, estate: Estate) -> dict[uuid.UUID, bytes]:
    table = estate.vault.table
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(table.c.id, table.c.secret).where(table.c.secret.is_not(None))
        )
        return {row.id: row.secret for row in rows}


async def _assert_everything_opens(
    engine: AsyncEngine, estate: Estate, ring: KeyRing
) -> None:
    for row, sealed in (await _vault_rows(engine, estate)).items():
        assert estate.vault.open(ring, sealed, row) == estate.secrets[row]
    async with async_sessionmaker(engine)() as session:
        for org, sealed in estate.personal.items():
            key = await load_data_key(session, estate.schema, org, ring)
            plaintext = key.open(sealed, row_id=org, **PERSON_CELL)
            assert plaintext.startswith(b"person-")


async def _versions(engine: AsyncEngine, estate: Estate) -> set[int]:
    rows = await _vault_rows(engine, estate)
    return {sealed_key_version(sealed) for sealed in rows.values()}


async def test_rotation_reseals_every_row_under_the_newest_key(
    owner_engine: AsyncEngine, estate: Estate
) -> None:
    before = await _vault_rows(owner_engine, estate)

    report = await rotate_master_key(
        owner_engine, estate.schema, estate.new, estate.registry, batch_size=4
    )

    counts = {c.column: (c.resealed, c.remaining) for c in report.columns}
    assert counts == {
        f"{estate.schema}.org_keys.wrapped_key": (ORGS, 0),
        f"{estate.schema}.vault.secret": (VAULT_ROWS, 0),
    }
    after = await _vault_rows(owner_engine, estate)
    assert all(after[row] != before[row] for row in before)
    assert await _versions(owner_engine, estate) == {2}
    newest_only = KeyRing({2: estate.new.keys[2]})
    await _assert_everything_opens(owner_engine, estate, newest_only)


async def test_rotation_records_the_master_key_version_of_each_data_key(
    owner_engine: AsyncEngine, estate: Estate
) -> None:
    await rotate_master_key(owner_engine, estate.schema, estate.new, estate.registry)

    async with owner_engine.connect() as connection:
        versions = await connection.scalars(
            text(f"select distinct master_key_version from {estate.schema}.org_keys")
        )
        assert list(versions) == [2]


async def test_every_value_reads_while_rotation_is_half_done(
    owner_engine: AsyncEngine, estate: Estate
) -> None:
    batches = reseal_batches(owner_engine, estate.vault, estate.new, batch_size=5)

    first = await anext(batches)
    assert (first.resealed, first.changed_concurrently) == (5, 0)
    assert await _versions(owner_engine, estate) == {1, 2}
    await _assert_everything_opens(owner_engine, estate, estate.new)

    rest = [batch async for batch in batches]
    assert sum(batch.resealed for batch in rest) == VAULT_ROWS - 5
    assert await _versions(owner_engine, estate) == {2}
    await _assert_everything_opens(owner_engine, estate, estate.new)


async def test_a_row_written_during_rotation_keeps_the_writer_value(
    owner_engine: AsyncEngine, estate: Estate
) -> None:
    table = estate.vault.table
    row = min(estate.secrets)
    written = estate.vault.seal(estate.old, b"written meanwhile", row)

    async with owner_engine.connect() as writer:
        await writer.execute(
            table.update().where(table.c.id == row).values(secret=written)
        )
        rotation = asyncio.create_task(
            rotate_master_key(
                owner_engine, estate.schema, estate.new, estate.registry, batch_size=4
            )
        )
        await _wait_until_blocked(owner_engine)
        await writer.commit()
        report = await rotation

    vault_report = report.columns[-1]
    assert (vault_report.changed_concurrently, vault_report.remaining) == (1, 1)
    assert (await _vault_rows(owner_engine, estate))[row] == written

    again = await rotate_master_key(
        owner_engine, estate.schema, estate.new, estate.registry
    )
    assert (again.resealed, again.remaining) == (1, 0)
    resealed = (await _vault_rows(owner_engine, estate))[row]
    assert estate.vault.open(estate.new, resealed, row) == b"written meanwhile"


async def _wait_until_blocked(engine: AsyncEngine) -> None:
    query = text(
        "select count(*) from pg_stat_activity "
        "where datname = current_database() and wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(10):
        while True:
            async with engine.connect() as connection:
                if await connection.scalar(query):
                    return
            await asyncio.sleep(0.02)


async def test_a_second_rotation_finds_nothing_to_do(
    owner_engine: AsyncEngine, estate: Estate
) -> None:
    await rotate_master_key(owner_engine, estate.schema, estate.new, estate.registry)

    again = await rotate_master_key(
        owner_engine, estate.schema, estate.new, estate.registry
    )

    assert (again.resealed, again.remaining) == (0, 0)
    assert (
        await count_outdated(owner_engine, wrapped_keys_column(estate.schema), 2) == 0
    )


async def test_rotation_refuses_an_unknown_schema(owner_engine: AsyncEngine) -> None:
    with pytest.raises(RotationRefused, match="no schema"):
        await rotate_master_key(owner_engine, "no_such_schema", KeyRing.generate())


async def test_rotation_refuses_to_run_where_row_security_hides_rows(
    owner_engine: AsyncEngine,
) -> None:
    table = Table(
        "rotation_probe",
        MetaData(schema="contacts"),
        Column("id", Uuid, primary_key=True),
        Column("org_id", Uuid, nullable=False),
        Column("secret", LargeBinary),
    )
    registry = SealedColumnRegistry()
    registry.register(SealedColumn(table, "secret"))
    async with owner_engine.begin() as connection:
        await connection.run_sync(table.create)
        for statement in tenant_table_sql("contacts.rotation_probe"):
            await connection.execute(text(statement))

    runtime = open_runtime(CONTACTS, CONTACTS.settings())
    try:
        with pytest.raises(RotationRefused, match="row-level security"):
            await rotate_master_key(
                runtime.engine, "contacts", KeyRing.generate(), registry
            )
    finally:
        await runtime.close()
        async with owner_engine.begin() as connection:
            await connection.run_sync(table.drop)


async def test_rotating_the_services_covers_each_schema_and_its_columns(
    stores: Stores,
) -> None:
    ring = load_secrets(CommonSettings()).master_keys

    reports = await rotate_services(stores.database_url, ring, SERVICES)

    assert [report.schema for report in reports] == [s.schema for s in SERVICES]
    for report in reports:
        expected = {f"{report.schema}.org_keys.wrapped_key"} | {
            column.name for column in SEALED_COLUMNS.in_schema(report.schema)
        }
        assert {column.column for column in report.columns} == expected
        assert report.remaining == 0
