"""Starting and stopping the processes a benchmark measures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx

from deploy.embedded import free_port

_START_TIMEOUT_SECONDS = 30.0


@contextlib.asynccontextmanager
async def gateway_process(
    env: dict[str, str], *, mode: str = "checked", rounds: int = 12
) -> AsyncIterator[str]:
    """A gateway of its own process, on a free port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.gateway_server",
            f"--port={port}",
            f"--mode={mode}",
            f"--rounds={rounds}",
        ],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_live(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


async def _wait_until_live(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(int(_START_TIMEOUT_SECONDS / 0.1)):
            if process.poll() is not None:
                raise RuntimeError("the benchmark server exited at start")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/health/live")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("the benchmark server did not start in time")
