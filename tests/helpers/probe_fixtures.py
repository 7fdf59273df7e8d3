"""Fixtures of the tests that drive the probe service's events and work.

Import them into a test module or conftest to use them: pytest finds a
fixture by its name in the importing module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.embedded import EmbeddedRedis
from shared.runtime import Runtime
from tests.conftest import Stores
from tests.helpers.harness import open_probe_runtime, reset_probe_tables


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of these tests' own, so no other worker reads their queues."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


@pytest.fixture
async def runtime(
    stores: Stores, owner_engine: AsyncEngine, private_redis: str
) -> AsyncIterator[Runtime]:
    """The probe service's connections, its tables and Redis emptied."""
    await reset_probe_tables(owner_engine)
    runtime = open_probe_runtime(private_redis)
    await runtime.redis.flushdb()
    yield runtime
    await runtime.close()
