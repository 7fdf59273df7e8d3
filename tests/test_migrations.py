"""Every service's schema is created by its migrations, inside its schema."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry import SERVICES


async def test_each_service_has_its_schema_and_version_table(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as connection:
        for spec in SERVICES:
            version = await connection.scalar(
                text(f'select version_num from "{spec.schema}".alembic_version')
            )
            assert version == "0001", spec.name
