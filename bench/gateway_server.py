"""The gateway as benchmarks run it: a process of its own, optionally with the
member check replaced (the "same endpoint unauthenticated" baseline) and a
probe of event-loop lag.

    python -m bench.gateway_server --port 8100 --mode open
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import uvicorn
from fastapi import FastAPI

from services.gateway.app import create
from services.gateway.auth import Member, current_member
from services.gateway.settings import GatewaySettings

_SAMPLE_SECONDS = 0.005


def _unchecked_member(org_id: uuid.UUID) -> Member:
    return Member(org_id=org_id, role="admin")


def _add_lag_probe(app: FastAPI) -> None:
    samples: list[float] = []

    async def sample_forever() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(_SAMPLE_SECONDS)
            samples.append(time.perf_counter() - started - _SAMPLE_SECONDS)

    @app.post("/bench/loop-lag")
    async def lag_since_last_call() -> dict[str, float]:
        ordered = sorted(samples) or [0.0]
        samples.clear()
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return {"p99_ms": p99 * 1000, "samples": len(ordered)}

    app.state.lag_task = None

    @app.middleware("http")
    async def start_probe(request, call_next):  # type: ignore[no-untyped-def]
        if app.state.lag_task is None:
            app.state.lag_task = asyncio.create_task(sample_forever())
        return await call_next(request)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["checked", "open"], default="checked")
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    app = create(GatewaySettings(bcrypt_rounds=args.rounds, port=args.port))
    if args.mode == "open":
        app.dependency_overrides[current_member] = _unchecked_member
    _add_lag_probe(app)
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_config=None, access_log=False
    )


if __name__ == "__main__":
    main()
