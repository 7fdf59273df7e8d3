"""A small HTTP/1.1 keep-alive load generator.

It is deliberately lean (raw asyncio streams, no client library) so that the
client costs little next to the server it measures on the same two cores.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit


class LoadError(RuntimeError):
    """The server answered something other than 2xx during a run."""


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return status


async def _worker(
    url: str, headers: dict[str, str], deadline: float, counts: list[int]
) -> None:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    lines = [f"GET {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    try:
        while time.monotonic() < deadline:
            writer.write(request)
            status = await _read_response(reader)
            if not 200 <= status < 300:
                raise LoadError(f"{url} answered {status}")
            counts[0] += 1
    finally:
        writer.close()


async def requests_per_second(
    url: str, headers: dict[str, str], *, seconds: float, connections: int = 8
) -> float:
    """How many GETs of ``url`` succeed per second over ``seconds``."""
    counts = [0]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(_worker(url, headers, deadline, counts) for _ in range(connections))
    )
    return counts[0] / (time.monotonic() - started)
