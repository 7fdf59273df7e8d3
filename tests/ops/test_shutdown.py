"""SIGTERM stops a worker without losing a job: it takes no new one, lets the
running ones finish within the grace, and puts back those that cannot."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from arq.constants import in_progress_key_prefix
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.runtime import Runtime
from tests.helpers.harness import (
    effects,
    log_events,
    start_python,
    stop_process,
    wait_until,
)
from tests.helpers.probe import PROBE, probe_event
from tests.ops.conftest import deliver

WORKER = ["-m", "tests.helpers.probe_worker"]


def start_worker(
    redis_url: str, log_path: Path, grace_seconds: float
) -> subprocess.Popen[bytes]:
    return start_python(
        WORKER,
        log_path,
        REDIS_URL=redis_url,
        OJIME_SHUTDOWN_GRACE_SECONDS=str(grace_seconds),
    )


async def test_a_job_running_at_sigterm_finishes_and_no_new_job_starts(
    runtime: Runtime, owner_engine: AsyncEngine, private_redis: str, tmp_path: Path
) -> None:
    running, waiting = probe_event(linger=2), probe_event()
    first = start_worker(private_redis, tmp_path / "first.log", grace_seconds=15)
    second = None
    try:
        job = await deliver(runtime.redis, running)
        await wait_until(lambda: _in_progress(runtime, job), timeout=20)
        first.send_signal(signal.SIGTERM)
        await wait_until(lambda: _logged(tmp_path / "first.log", "worker.draining"), 10)
        await deliver(runtime.redis, waiting)

        assert first.wait(timeout=15) == 0
        assert await effects(owner_engine, running.id) == [""]
        assert await effects(owner_engine, waiting.id) == []
        assert await runtime.redis.zcard(PROBE.spec.queue) == 1

        second = start_worker(private_redis, tmp_path / "second.log", grace_seconds=5)
        await wait_until(lambda: _has_effect(owner_engine, waiting.id), timeout=20)
    finally:
        stop_process(first)
        if second is not None:
            stop_process(second)


async def test_a_job_outlasting_the_grace_goes_back_and_the_next_worker_runs_it(
    runtime: Runtime, owner_engine: AsyncEngine, private_redis: str, tmp_path: Path
) -> None:
    event = probe_event(linger=4)
    first = start_worker(private_redis, tmp_path / "first.log", grace_seconds=1)
    second = None
    try:
        job = await deliver(runtime.redis, event)
        await wait_until(lambda: _in_progress(runtime, job), timeout=20)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0
        returned_at = time.monotonic()

        assert await effects(owner_engine, event.id) == []
        assert not await _in_progress(runtime, job)
        assert "worker.jobs_returned" in log_events(tmp_path / "first.log")

        second = start_worker(private_redis, tmp_path / "second.log", grace_seconds=5)
        await wait_until(lambda: _has_effect(owner_engine, event.id), timeout=20)
        # Well before arq's in-progress mark of a killed worker would expire.
        assert time.monotonic() - returned_at < 20
        assert await effects(owner_engine, event.id) == [""]
    finally:
        stop_process(first)
        if second is not None:
            stop_process(second)


async def _in_progress(runtime: Runtime, job_id: str) -> bool:
    return bool(await runtime.redis.exists(in_progress_key_prefix + job_id))


async def _has_effect(owner: AsyncEngine, key: object) -> bool:
    return bool(await effects(owner, key))


async def _logged(log_path: Path, event: str) -> bool:
    return event in log_events(log_path)
