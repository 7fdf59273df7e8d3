"""What the event and work tests share: a runtime, counts, processes, waiting."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.runtime import Runtime, open_runtime
from tests.helpers.probe import CREATE_EFFECTS_TABLE, EFFECTS_TABLE, PROBE

ROOT = Path(__file__).resolve().parents[2]
_SCHEMA = PROBE.spec.schema


def open_probe_runtime(redis_url: str) -> Runtime:
    """The probe service's connections, with Redis at ``redis_url``."""
    settings = PROBE.spec.settings().model_copy(update={"redis_url": redis_url})
    return open_runtime(PROBE.spec, settings)


async def reset_probe_tables(owner: AsyncEngine) -> None:
    """Empty the tables the probe writes, so each test starts from nothing."""
    async with owner.begin() as connection:
        await connection.execute(text(CREATE_EFFECTS_TABLE))
        await connection.execute(
            text(
                f"truncate {EFFECTS_TABLE}, {_SCHEMA}.outbox, "
                f"{_SCHEMA}.handled_events, {_SCHEMA}.work_items"
            )
        )


async def effects(owner: AsyncEngine, key: object) -> list[str]:
    """The notes of the effects recorded under ``key``, oldest first."""
    async with owner.connect() as connection:
        rows = await connection.execute(
            text(
                f"select note from {EFFECTS_TABLE} where key = :key "
                "order by recorded_at"
            ),
            {"key": str(key)},
        )
        return [row.note for row in rows]


async def scalar(owner: AsyncEngine, sql: str, **params: Any) -> Any:
    async with owner.connect() as connection:
        return await connection.scalar(text(sql), params)


async def wait_until(
    condition: Callable[[], Awaitable[bool]], timeout: float, step: float = 0.05
) -> float:
    """Poll ``condition`` until it holds; the seconds it took. Fails on timeout."""
    started = time.monotonic()
    while not await condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(step)
    return time.monotonic() - started


def start_python(
    arguments: list[str], log_path: Path, **env: str
) -> subprocess.Popen[bytes]:
    """Run the venv's Python from the repository, with extra environment.

    Its standard output is a pipe; what it logs goes to ``log_path``.
    """
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, *arguments],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=log,
        )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Make sure a process a test started is gone."""
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdout:
        process.stdout.close()


def log_events(log_path: Path) -> list[str]:
    """The event names a process logged, in order."""
    names = []
    for line in log_path.read_text().splitlines():
        try:
            names.append(str(json.loads(line)["event"]))
        except (ValueError, KeyError, TypeError):
            continue
    return names
