"""``python -m bench``: every benchmark, one table."""

from __future__ import annotations

import asyncio

from bench import auth_throughput, login_rate, webhook_ingest
from bench.harness import Figure, report

BENCHMARKS = (auth_throughput, login_rate, webhook_ingest)


async def run_all() -> list[Figure]:
    figures: list[Figure] = []
    for benchmark in BENCHMARKS:
        figures.extend(await benchmark.measure())
    return figures


if __name__ == "__main__":
    report(asyncio.run(run_all()))
