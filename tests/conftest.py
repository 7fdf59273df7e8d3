"""Fixtures shared by every test: real PostgreSQL and Redis, a fresh database.

With ``DATABASE_URL`` and ``REDIS_URL`` set, the tests use those servers, each
run in a database of its own that is dropped at the end. Without them, they
start the embedded servers, as ``make run`` would.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from deploy.embedded import EmbeddedPostgres, EmbeddedRedis
from deploy.migrate import migrate_all
from services.registry import SERVICES
from shared.db import async_url


@dataclass(frozen=True)
class Stores:
    database_url: str
    redis_url: str
    data_dir: Path


def _server_urls(
    scratch: Path, started: list[EmbeddedPostgres | EmbeddedRedis]
) -> tuple[str, str]:
    """The stores' addresses, starting embedded ones (added to ``started``)
    where none is configured."""
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url:
        postgres = EmbeddedPostgres(scratch)
        database_url = postgres.start(database="postgres")
        started.append(postgres)
    if not redis_url:
        redis = EmbeddedRedis(scratch)
        redis_url = redis.start()
        started.append(redis)
    return database_url, _database_of_our_own(redis_url)


def _database_of_our_own(redis_url: str) -> str:
    """The same Redis, in one of its numbered databases picked at random.

    Tests flush their Redis database; two runs on one machine at the same
    time would otherwise flush each other's keys.
    """
    address = urlsplit(redis_url)
    return urlunsplit(address._replace(path=f"/{random.randint(1, 15)}"))


async def create_database(server_url: str, name: str) -> str:
    engine = create_async_engine(
        async_url(server_url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as connection:
        await connection.execute(text(f'create database "{name}"'))
    await engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    engine = create_async_engine(
        async_url(server_url), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as connection:
        await connection.execute(text(f'drop database if exists "{name}" with (force)'))
    await engine.dispose()


@pytest.fixture(scope="session")
async def stores(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stores]:
    """A migrated database of this run's own, a Redis, and a data folder."""
    scratch = _scratch_folder()
    started: list[EmbeddedPostgres | EmbeddedRedis] = []
    try:
        server_url, redis_url = _server_urls(scratch, started)
        async with _migrated_database(server_url) as database_url:
            data_dir = tmp_path_factory.mktemp("data")
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("DATABASE_URL", database_url)
                patch.setenv("REDIS_URL", redis_url)
                patch.setenv("OJIME_DATA_DIR", str(data_dir))
                patch.setenv("OJIME_LOG_FORMAT", "json")
                await migrate_all(SERVICES)
                yield Stores(database_url, redis_url, data_dir)
    finally:
        # Also when setting up failed: no embedded server outlives the run.
        for server in reversed(started):
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.asynccontextmanager
async def _migrated_database(server_url: str) -> AsyncIterator[str]:
    name = f"ojime_test_{uuid.uuid4().hex[:12]}"
    database_url = await create_database(server_url, name)
    try:
        yield database_url
    finally:
        await drop_database(server_url, name)


def _scratch_folder() -> Path:
    # Run as root, the embedded PostgreSQL runs as another user, who must reach
    # its folder; pytest makes its own temporary root private again whenever
    # any pytest starts, which would cut a running server off from its files.
    path = Path(tempfile.mkdtemp(prefix="ojime-stores-"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
async def owner_engine(stores: Stores) -> AsyncIterator[AsyncEngine]:
    """The migration owner's engine: it sees through row-level security only
    where the owner is a superuser, so tests use it to arrange and inspect."""
    engine = create_async_engine(async_url(stores.database_url), poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def redis(stores: Stores) -> AsyncIterator[Redis]:
    client = Redis.from_url(stores.redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
