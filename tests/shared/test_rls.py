"""Row-level security keeps each organization to its own rows.

The probe table lives in the contacts schema and is reached through the
contacts service's own runtime, so the checks run as the serving role with
the grants and policies that migrations give every tenant table.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import MetaData, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.contacts import SPEC as CONTACTS
from services.registry import SERVICES
from shared.db import role_name, unit_of_work
from shared.migrations import tenant_table_sql
from shared.runtime import Runtime, open_runtime
from shared.tables import add_system_tables
from tests.conftest import Stores

ORG_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
ORG_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")
PROBE = "contacts.rls_probe"


@pytest.fixture(scope="module")
async def probe_table(owner_engine: AsyncEngine) -> AsyncIterator[str]:
    async with owner_engine.begin() as connection:
        await connection.execute(
            text(
                f"create table {PROBE} (id uuid primary key, "
                "org_id uuid not null, label text not null)"
            )
        )
        for statement in tenant_table_sql(PROBE):
            await connection.execute(text(statement))
        for org, label in [(ORG_A, "a1"), (ORG_A, "a2"), (ORG_B, "b1")]:
            await connection.execute(
                text(f"insert into {PROBE} values (:id, :org, :label)"),
                {"id": uuid.uuid4(), "org": org, "label": label},
            )
    yield PROBE
    async with owner_engine.begin() as connection:
        await connection.execute(text(f"drop table {PROBE}"))


@pytest.fixture
async def contacts_runtime(stores: Stores) -> AsyncIterator[Runtime]:
    runtime = open_runtime(CONTACTS, CONTACTS.settings())
    yield runtime
    await runtime.close()


async def _labels(runtime: Runtime, org_id: uuid.UUID | None) -> list[str]:
    async with unit_of_work(runtime.sessions, org_id) as session:
        rows = await session.execute(text(f"select label from {PROBE} order by 1"))
        return list(rows.scalars())


async def test_unfiltered_select_sees_only_the_bound_organization(
    probe_table: str, contacts_runtime: Runtime
) -> None:
    assert await _labels(contacts_runtime, ORG_A) == ["a1", "a2"]
    assert await _labels(contacts_runtime, ORG_B) == ["b1"]


async def test_no_organization_means_no_rows_and_no_error(
    probe_table: str, contacts_runtime: Runtime
) -> None:
    assert await _labels(contacts_runtime, None) == []


async def test_inserting_a_row_for_another_organization_is_refused(
    probe_table: str, contacts_runtime: Runtime
) -> None:
    with pytest.raises(DBAPIError, match="row-level security"):
        async with unit_of_work(contacts_runtime.sessions, ORG_A) as session:
            await session.execute(
                text(f"insert into {PROBE} values (:id, :org, 'sneaky')"),
                {"id": uuid.uuid4(), "org": ORG_B},
            )
    assert await _labels(contacts_runtime, ORG_B) == ["b1"]


async def test_moving_a_row_to_another_organization_is_refused(
    probe_table: str, contacts_runtime: Runtime
) -> None:
    with pytest.raises(DBAPIError, match="row-level security"):
        async with unit_of_work(contacts_runtime.sessions, ORG_A) as session:
            await session.execute(
                text(f"update {PROBE} set org_id = :org"), {"org": ORG_B}
            )
    assert await _labels(contacts_runtime, ORG_A) == ["a1", "a2"]


async def test_a_pooled_connection_does_not_carry_the_organization_over(
    probe_table: str, stores: Stores
) -> None:
    settings = CONTACTS.settings_class(db_pool_size=1)
    runtime = open_runtime(CONTACTS, settings)
    try:
        async with runtime.engine.connect() as connection:
            pid_first = await connection.scalar(text("select pg_backend_pid()"))
        assert await _labels(runtime, ORG_A) == ["a1", "a2"]
        async with runtime.sessions() as session:
            leftover = await session.scalar(
                text("select current_setting('ojime.org_id', true)")
            )
            pid_after = await session.scalar(text("select pg_backend_pid()"))
        assert pid_after == pid_first
        assert not leftover
        assert await _labels(runtime, None) == []
    finally:
        await runtime.close()


async def test_serving_roles_are_plain_and_own_nothing(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as connection:
        for spec in SERVICES:
            role = role_name(spec.name)
            flags = (
                await connection.execute(
                    text(
                        "select rolsuper, rolbypassrls, rolcreaterole "
                        "from pg_roles where rolname = :role"
                    ),
                    {"role": role},
                )
            ).one()
            owned = await connection.scalar(
                text("select count(*) from pg_tables where tableowner = :role"),
                {"role": role},
            )
            assert tuple(flags) == (False, False, False), role
            assert owned == 0, role


async def test_a_serving_role_cannot_reach_another_service_schema(
    contacts_runtime: Runtime,
) -> None:
    with pytest.raises(DBAPIError, match="permission denied"):
        async with unit_of_work(contacts_runtime.sessions) as session:
            await session.execute(text("select count(*) from gateway.outbox"))


async def test_every_tenant_table_is_under_forced_row_security(
    probe_table: str, owner_engine: AsyncEngine
) -> None:
    system = set(add_system_tables(MetaData()))
    schemas = [spec.schema for spec in SERVICES]
    async with owner_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "select n.nspname, c.relname, c.relrowsecurity, "
                "c.relforcerowsecurity from pg_class c "
                "join pg_namespace n on n.oid = c.relnamespace "
                "join pg_attribute a on a.attrelid = c.oid "
                "where c.relkind = 'r' and a.attname = 'org_id' "
                "and n.nspname = any(:schemas)"
            ),
            {"schemas": schemas},
        )
        tenant_tables = [row for row in rows if row.relname not in system]
    assert ("contacts", "rls_probe", True, True) in [tuple(r) for r in tenant_tables]
    for row in tenant_tables:
        assert row.relrowsecurity and row.relforcerowsecurity, row.relname
