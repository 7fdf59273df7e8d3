"""A small HTTP/1.1 keep-alive load generator.

It is deliberately lean (raw asyncio streams, no client library) so that the
client costs little next to the server it measures on the same two cores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
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


def raw_post(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The bytes of one keep-alive POST of ``body`` to ``url``."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def _exchange(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> None:
    reader, writer = connection
    writer.write(request)
    status = await _read_response(reader)
    if not 200 <= status < 300:
        raise LoadError(f"a request answered {status}")


async def sent_per_second(
    url: str, requests: Iterator[bytes], *, seconds: float, connections: int = 8
) -> float:
    """How many of ``requests`` (raw, see :func:`raw_post`) succeed per second,
    sent back to back on ``connections`` connections for ``seconds``."""
    done = [0]
    deadline = time.monotonic() + seconds

    async def keep_sending() -> None:
        connection = await _open(url)
        try:
            for request in requests:
                await _exchange(connection, request)
                done[0] += 1
                if time.monotonic() >= deadline:
                    return
        finally:
            connection[1].close()

    started = time.monotonic()
    await asyncio.gather(*(keep_sending() for _ in range(connections)))
    return done[0] / (time.monotonic() - started)


async def latencies_at_rate(
    url: str,
    requests: Iterator[bytes],
    *,
    rate: float,
    seconds: float,
    connections: int = 32,
) -> list[float]:
    """Seconds from each request's scheduled start to its answer, requests
    started at a steady ``rate`` whether or not earlier ones were answered
    (so a stall shows in the latencies instead of slowing the load)."""
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
    idle = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await _open(url))
    latencies: list[float] = []

    async def send(scheduled: float, request: bytes) -> None:
        connection = await idle.get()
        await _exchange(connection, request)
        latencies.append(time.monotonic() - scheduled)
        idle.put_nowait(connection)

    started = time.monotonic()
    sent = []
    for index in range(int(rate * seconds)):
        scheduled = started + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        sent.append(asyncio.create_task(send(scheduled, next(requests))))
    await asyncio.gather(*sent)
    while not idle.empty():
        idle.get_nowait()[1].close()
    return latencies
