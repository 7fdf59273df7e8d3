"""Every service's schema is created by its migrations, inside its schema."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from deploy.migrate import migrate_all
from services.registry import SERVICES
from shared.db import async_url
from shared.service import ServiceSpec
from tests.conftest import Stores, create_database, drop_database


async def test_each_service_is_at_its_newest_revision_inside_its_schema(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as connection:
        for spec in SERVICES:
            head = ScriptDirectory(str(spec.migrations_dir)).get_current_head()
            version = await connection.scalar(
                text(f'select version_num from "{spec.schema}".alembic_version')
            )
            assert head is not None
            assert version == head, spec.name


async def test_no_version_table_lands_outside_the_service_schemas(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as connection:
        schemas = set(
            await connection.scalars(
                text(
                    "select table_schema from information_schema.tables "
                    "where table_name = 'alembic_version'"
                )
            )
        )
    assert schemas == {spec.schema for spec in SERVICES}


def _differences(
    connection: Connection, metadata: MetaData, schema: str
) -> list[object]:
    def ours(name: str | None, kind: str, parent: object) -> bool:
        if kind == "schema":
            return name == schema
        return not (kind == "table" and name == "alembic_version")

    context = MigrationContext.configure(
        connection, opts={"include_schemas": True, "include_name": ours}
    )
    return list(compare_metadata(context, metadata))


@pytest.fixture(scope="module")
async def freshly_migrated(
    stores: Stores,
) -> AsyncIterator[AsyncEngine]:
    """A database of its own, migrated from nothing: other tests add scratch
    tables to the shared one."""
    server_url = stores.database_url
    name = f"ojime_fresh_{uuid.uuid4().hex[:10]}"
    database_url = await create_database(server_url, name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        await migrate_all(SERVICES)
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    yield engine
    await engine.dispose()
    await drop_database(server_url, name)


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
async def test_migrations_build_exactly_the_tables_the_models_declare(
    freshly_migrated: AsyncEngine, spec: ServiceSpec
) -> None:
    models = importlib.import_module(f"{spec.package}.models")
    async with freshly_migrated.connect() as connection:
        differences = await connection.run_sync(
            _differences, models.Base.metadata, spec.schema
        )
    assert differences == []
