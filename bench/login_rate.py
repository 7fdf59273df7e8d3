"""Sign-ins run as fast as bcrypt allows, and never stall the event loop.

Targets: logins per second, with 50 running at once, are at least 0.9 of raw
bcrypt verifications per second at the same cost on the same cores; and the
gateway's event-loop lag stays under 20 ms at the 99th percentile meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import bcrypt
import httpx

from bench.harness import Figure, alternate, report
from bench.servers import gateway_process
from bench.stores import scratch_stores

ROUNDS = 12
CONCURRENT = 50
SECONDS_PER_RUN = 6.0
PASSWORD = "a long enough bench password"
ORIGIN = "http://127.0.0.1:8000"


async def _sign_up(url: str) -> str:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(base_url=url, headers={"origin": ORIGIN}) as client:
        answer = await client.post(
            "/api/auth/signup",
            json={"name": "Bench", "email": email, "password": PASSWORD},
        )
        answer.raise_for_status()
    return email


async def _logins_per_second(url: str, email: str) -> float:
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(
        base_url=url, headers={"origin": ORIGIN}, limits=limits, timeout=60
    ) as client:
        done = 0
        deadline = time.monotonic() + SECONDS_PER_RUN
        started = time.monotonic()

        async def keep_logging_in() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                answer = await client.post(
                    "/api/auth/login", json={"email": email, "password": PASSWORD}
                )
                answer.raise_for_status()
                client.cookies.clear()
                done += 1

        await asyncio.gather(*(keep_logging_in() for _ in range(CONCURRENT)))
        return done / (time.monotonic() - started)


async def _raw_verifications_per_second(pool: ThreadPoolExecutor) -> float:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(ROUNDS))
    loop = asyncio.get_running_loop()
    done = 0
    deadline = time.monotonic() + SECONDS_PER_RUN
    started = time.monotonic()

    async def keep_verifying() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await loop.run_in_executor(pool, bcrypt.checkpw, PASSWORD.encode(), hashed)
            done += 1

    await asyncio.gather(*(keep_verifying() for _ in range(CONCURRENT)))
    return done / (time.monotonic() - started)


async def _loop_lag_ms(url: str) -> float:
    async with httpx.AsyncClient(base_url=url) as client:
        answer = await client.post("/bench/loop-lag")
        return float(answer.json()["p99_ms"])


async def measure() -> list[Figure]:
    lags: list[float] = []
    idle_lags: list[float] = []
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
    async with scratch_stores() as env, gateway_process(env, rounds=ROUNDS) as url:
        email = await _sign_up(url)
        await _loop_lag_ms(url)

        async def logins() -> float:
            rate = await _logins_per_second(url, email)
            lags.append(await _loop_lag_ms(url))
            return rate

        async def raw() -> float:
            rate = await _raw_verifications_per_second(pool)
            idle_lags.append(await _loop_lag_ms(url))
            return rate

        measured, baseline = await alternate(logins, raw)
    pool.shutdown()
    return [
        Figure("logins/s vs raw bcrypt verifications/s", measured, baseline, 0.9),
        Figure(
            "event-loop lag p99 ms, 50 logins at once",
            lags,
            idle_lags,
            target=20.0,
            higher_is_better=False,
            absolute=True,
        ),
    ]


def main() -> None:
    report(asyncio.run(measure()))


if __name__ == "__main__":
    main()
