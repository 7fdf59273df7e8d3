"""With no DATABASE_URL or REDIS_URL, ``ojime run`` keeps everything in its
data folder: a second start finds the keys, the rows and the queued jobs of
the first, and each stop leaves no server behind."""

from __future__ import annotations

import uuid
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from shared.db import async_url
from tests.deploy.system import (
    RunningSystem,
    free_ports,
    runner_environment,
    running,
    still_alive,
)

_PROBE_KEY = "ojime:test:restart-probe"


def _store_addresses(system: RunningSystem) -> tuple[str, str]:
    database = system.wait_for_line(r"\| embedded PostgreSQL: (\S+)$").group(1)
    redis = system.wait_for_line(r"\| embedded Redis: (\S+)$").group(1)
    return database, redis


async def _execute(database_url: str, statement: str, **values: object) -> object:
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), values)
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def _remember_a_job(redis_url: str, job: str) -> None:
    client = Redis.from_url(redis_url)
    await client.set(_PROBE_KEY, job)
    await client.aclose()


async def _recall_a_job(redis_url: str) -> bytes | None:
    client = Redis.from_url(redis_url)
    job: bytes | None = await client.get(_PROBE_KEY)
    await client.aclose()
    return job


def _stop_cleanly(system: RunningSystem) -> None:
    tree = system.process_tree()

    assert system.stop() == 0, system.output()
    assert still_alive(tree, timeout=10) == []


async def test_the_data_folder_survives_a_restart(data_dir: Path) -> None:
    environment = runner_environment(free_ports(), data_dir, embedded=True)
    work_id = uuid.uuid4()

    with running(environment) as first:
        first.wait_until_ready()
        database_url, redis_url = _store_addresses(first)
        keys = (data_dir / "secrets.json").read_bytes()
        await _execute(
            database_url,
            "insert into contacts.work_items (id, kind, due_at) "
            "values (:id, 'restart-probe', now())",
            id=work_id,
        )
        await _remember_a_job(redis_url, str(work_id))
        _stop_cleanly(first)

    with running(environment) as second:
        second.wait_until_ready()

        assert _store_addresses(second) == (database_url, redis_url)
        assert (data_dir / "secrets.json").read_bytes() == keys
        kind = await _execute(
            database_url,
            "select kind from contacts.work_items where id = :id",
            id=work_id,
        )
        assert kind == "restart-probe"
        assert await _recall_a_job(redis_url) == str(work_id).encode()
        _stop_cleanly(second)
