"""Fixtures of the operations tests: a Redis of their own and the probe worker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.embedded import EmbeddedRedis
from shared.events import Event
from shared.events.outbox import OutboxRow
from shared.events.relay import event_job_id, publish
from shared.runtime import Runtime
from tests.conftest import Stores
from tests.helpers.harness import open_probe_runtime, reset_probe_tables
from tests.helpers.probe import PROBE, PROBE_ROUTES


@pytest.fixture(scope="package")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of these tests' own, so no other worker reads their queue."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


@pytest.fixture
async def runtime(
    stores: Stores, owner_engine: AsyncEngine, private_redis: str
) -> AsyncIterator[Runtime]:
    await reset_probe_tables(owner_engine)
    runtime = open_probe_runtime(private_redis)
    await runtime.redis.flushdb()
    yield runtime
    await runtime.close()


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "worker.log"


async def deliver(redis: ArqRedis, event: Event) -> str:
    """Put ``event`` on the probe's queue, as the relay would; its job id."""
    destination = PROBE.spec.name
    await publish(redis, PROBE_ROUTES, OutboxRow(event, destination))
    return event_job_id(destination, event.id)
