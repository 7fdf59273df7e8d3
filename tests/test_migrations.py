"""Every service's schema is created by its migrations, inside its schema."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry import SERVICES


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
