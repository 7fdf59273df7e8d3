"""Instagram webhook ingest costs little more than the bare minimum.

Targets: signed deliveries per second through the gateway, of one entry and
of fifty, are at least 0.8 of a bare Starlette route that checks the same
signature and makes the same durable write (the same rows, sealed the same
way, through the same queries and transactions), so that the ratio is the
cost of the framework and of reading items into their kinds; and at 70% of
the gateway's saturation its acknowledgements take under 50 ms at the 99th
percentile.

    python -m bench.webhook_ingest                      # the benchmark
    GATEWAY_PORT=N python -m bench.webhook_ingest baseline   # the bare route
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import statistics
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.harness import Figure, alternate, report
from bench.loadgen import latencies_at_rate, raw_post, sent_per_second
from bench.servers import _wait_until_live
from bench.stores import scratch_stores
from deploy.embedded import free_port
from services.events import publish
from services.gateway import SPEC as GATEWAY
from services.gateway.models import INSTAGRAM_DELIVERY_BODY
from services.gateway.webhooks import repository
from services.gateway.webhooks.events import MESSAGE_RECEIVED
from services.gateway.webhooks.service import DELIVERY_EXPIRY
from shared.crypto.cipher import seal
from shared.crypto.keyring import KeyRing
from shared.db import async_url, unit_of_work
from shared.events import Event
from shared.runtime import Runtime, open_runtime
from shared.work import WorkItems

SECONDS_PER_RUN = 3.0
CONNECTIONS = 16
THROUGHPUT_TARGET = 0.8
P99_TARGET_MS = 50.0
LOAD_SHARE = 0.7
APP_SECRET = "bench-meta-app-secret"
ACCOUNT_ID = "17841400000000001"
PATH = "/webhooks/instagram"
RETENTION = timedelta(hours=24)


# Deliveries, as Meta sends them


def _message(serial: int) -> dict[str, Any]:
    return {
        "sender": {"id": f"178{serial:013d}"},
        "recipient": {"id": ACCOUNT_ID},
        "timestamp": 1764770000000 + serial,
        "message": {
            "mid": f"bench-{uuid.uuid4().hex}",
            "text": "Hello! Do you still have the blue one in medium?",
        },
    }


def deliveries(url: str, entries: int) -> Iterator[bytes]:
    """Endless signed deliveries of ``entries`` entries, every message new."""
    serials = itertools.count()
    while True:
        body = json.dumps(
            {
                "object": "instagram",
                "entry": [
                    {"id": ACCOUNT_ID, "time": 1764770000, "messaging": [_message(n)]}
                    for n in itertools.islice(serials, entries)
                ],
            }
        ).encode()
        signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": f"sha256={signature}",
        }
        yield raw_post(url + PATH, body, headers)


# The baseline: a bare route, the same check and the same write


def _signed(body: bytes, header: str | None) -> bool:
    digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(f"sha256={digest}", header)


def _sealed(ring: KeyRing, value: Any, column: str, row_id: uuid.UUID) -> str:
    plaintext = json.dumps(value).encode()
    sealed = seal(ring, plaintext, table="event", column=column, row_id=row_id)
    return base64.b64encode(sealed).decode()


def _event(
    ring: KeyRing, org_id: uuid.UUID, delivery_id: uuid.UUID, item: Any, event_id: Any
) -> Event:
    payload = {
        "kind": "message",
        "instagram_account_id": ACCOUNT_ID,
        "delivery_id": str(delivery_id),
        "sender_id": item["sender"]["id"],
        "recipient_id": item["recipient"]["id"],
        "timestamp": item["timestamp"],
        "message_id": item["message"]["mid"],
        "sealed": {"text": _sealed(ring, item["message"]["text"], "text", event_id)},
    }
    return Event(id=event_id, type=MESSAGE_RECEIVED, org_id=org_id, payload=payload)


async def _write(
    session: AsyncSession, ring: KeyRing, org_id: uuid.UUID, body: bytes, items: Any
) -> int:
    """The gateway's rows for these items: claims, sealed delivery, events and
    the expiry, through the same queries, without its parsing or framework."""
    pending = {uuid.uuid4(): item for item in items}
    claims = [("message", item["message"]["mid"], key) for key, item in pending.items()]
    fresh = await repository.claim_items(session, org_id, claims)
    if not fresh:
        return 0
    delivery_id = uuid.uuid4()
    sealed = INSTAGRAM_DELIVERY_BODY.seal(ring, body, delivery_id)
    await repository.add_delivery(session, delivery_id, org_id, sealed)
    for event_id in fresh:
        event = _event(ring, org_id, delivery_id, pending[event_id], event_id)
        await publish(session, event, source=GATEWAY)
    await WorkItems(GATEWAY.schema).schedule(
        session,
        DELIVERY_EXPIRY,
        org_id=org_id,
        due_at=datetime.now(UTC) + RETENTION,
        item_id=delivery_id,
    )
    return len(fresh)


def baseline_app() -> Starlette:
    """The bare route; it knows the one organization from its start."""
    runtimes: list[Runtime] = []
    orgs: dict[str, uuid.UUID] = {}

    async def receive(request: Request) -> Response:
        body = await request.body()
        if not _signed(body, request.headers.get("x-hub-signature-256")):
            return Response(status_code=403)
        entries = json.loads(body)["entry"]
        items = [item for entry in entries for item in entry["messaging"]]
        runtime, org_id = runtimes[0], orgs[ACCOUNT_ID]
        async with unit_of_work(runtime.sessions, org_id) as session:
            ring = runtime.secrets.master_keys
            emitted = await _write(session, ring, org_id, body, items)
        return JSONResponse({"events": emitted})

    async def live(request: Request) -> Response:
        return Response("ok")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = open_runtime(GATEWAY, GATEWAY.settings())
        runtimes.append(runtime)
        async with unit_of_work(runtime.sessions) as session:
            orgs.update(
                await repository.organizations_by_account(session, [ACCOUNT_ID])
            )
        yield
        await runtime.close()

    routes = [Route(PATH, receive, methods=["POST"]), Route("/health/live", live)]
    return Starlette(routes=routes, lifespan=lifespan)


def serve_baseline() -> None:
    port = GATEWAY.settings().port
    app = baseline_app()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
    )


@contextlib.asynccontextmanager
async def serving(command: list[str], env: dict[str, str]) -> AsyncIterator[str]:
    """``python -m <command>`` serving on a free port given as GATEWAY_PORT,
    once it answers; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", *command],
        env={**os.environ, **env, "GATEWAY_PORT": str(port)},
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_live(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


# The measurement


async def _connect_account(database_url: str) -> None:
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "insert into gateway.organizations (id, name, instagram_account_id, "
                "instagram_username, require_two_factor) "
                "values (:id, 'Bench', :account, 'bench', false)"
            ),
            {"id": uuid.uuid4(), "account": ACCOUNT_ID},
        )
    await engine.dispose()


def _throughput(url: str, entries: int):  # type: ignore[no-untyped-def]
    return lambda: sent_per_second(
        url, deliveries(url, entries), seconds=SECONDS_PER_RUN, connections=CONNECTIONS
    )


def _p99_ms(url: str, rate: float):  # type: ignore[no-untyped-def]
    async def run() -> float:
        latencies = await latencies_at_rate(
            url, deliveries(url, 1), rate=rate, seconds=SECONDS_PER_RUN
        )
        ordered = sorted(latencies)
        return ordered[int(len(ordered) * 0.99)] * 1000

    return run


async def measure() -> list[Figure]:
    async with scratch_stores() as env:
        env = {**env, "META_APP_SECRET": APP_SECRET}
        await _connect_account(env["DATABASE_URL"])
        # The gateway as ``ojime serve gateway`` runs it in production.
        async with (
            serving(["deploy.cli", "serve", "gateway"], env) as gateway,
            serving(["bench.webhook_ingest", "baseline"], env) as baseline,
        ):
            single = await alternate(_throughput(gateway, 1), _throughput(baseline, 1))
            batch = await alternate(_throughput(gateway, 50), _throughput(baseline, 50))
            rate = LOAD_SHARE * statistics.median(single[0])
            p99 = await alternate(_p99_ms(gateway, rate), _p99_ms(baseline, rate))
    return [
        Figure(
            "webhook deliveries of 1 entry, req/s", *single, target=THROUGHPUT_TARGET
        ),
        Figure(
            "webhook deliveries of 50 entries, req/s", *batch, target=THROUGHPUT_TARGET
        ),
        Figure(
            f"webhook ack p99 ms at 70% load ({rate:.0f}/s)",
            *p99,
            target=P99_TARGET_MS,
            higher_is_better=False,
            absolute=True,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "role", nargs="?", choices=["measure", "baseline"], default="measure"
    )
    args = parser.parse_args()
    if args.role == "baseline":
        serve_baseline()
        return
    report(asyncio.run(measure()))


if __name__ == "__main__":
    main()
