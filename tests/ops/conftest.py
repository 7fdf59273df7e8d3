"""Fixtures of the operations tests: a Redis of their own and the probe worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from arq.connections import ArqRedis

from shared.events import Event
from shared.events.outbox import OutboxRow
from shared.events.relay import event_job_id, publish
from tests.helpers.probe import PROBE, PROBE_ROUTES
from tests.helpers.probe_fixtures import private_redis, runtime

# The probe fixtures are imported so that pytest finds them for these tests.
__all__ = ["deliver", "private_redis", "runtime", "worker_log"]


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "worker.log"


async def deliver(redis: ArqRedis, event: Event) -> str:
    """Put ``event`` on the probe's queue, as the relay would; its job id."""
    destination = PROBE.spec.name
    await publish(redis, PROBE_ROUTES, OutboxRow(event, destination))
    return event_job_id(destination, event.id)
