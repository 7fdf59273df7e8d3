"""A scratch database and Redis for one benchmark run, dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from deploy.embedded import EmbeddedPostgres, EmbeddedRedis
from deploy.migrate import migrate_all
from services.registry import SERVICES
from shared.db import async_url


async def _admin(server_url: str, statement: str) -> None:
    engine = create_async_engine(
        async_url(server_url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@contextlib.asynccontextmanager
async def scratch_stores() -> AsyncIterator[dict[str, str]]:
    """Environment for processes under test: a migrated database of its own."""
    scratch = Path(tempfile.mkdtemp(prefix="ojime-bench-"))
    embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
    server_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not server_url:
        postgres = EmbeddedPostgres(scratch)
        server_url = postgres.start(database="postgres")
        embedded.append(postgres)
    if not redis_url:
        redis = EmbeddedRedis(scratch)
        redis_url = redis.start()
        embedded.append(redis)
    name = f"ojime_bench_{uuid.uuid4().hex[:10]}"
    await _admin(server_url, f'create database "{name}"')
    database_url = make_url(server_url).set(database=name)
    env = {
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "REDIS_URL": redis_url,
        "OJIME_DATA_DIR": str(scratch / "data"),
        "OJIME_LOG_LEVEL": "WARNING",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        await migrate_all(SERVICES)
        yield env
    finally:
        # The next benchmark of the same run starts from the servers again.
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        await _admin(server_url, f'drop database if exists "{name}" with (force)')
        for server in reversed(embedded):
            server.stop()
