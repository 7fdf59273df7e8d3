"""Every service and worker shows Prometheus what it did, without a key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.embedded import free_port
from services.contacts.app import create
from shared.runtime import Runtime
from tests.conftest import Stores
from tests.helpers.harness import effects, start_python, stop_process, wait_until
from tests.helpers.probe import probe_event
from tests.loopback import serve
from tests.ops.conftest import deliver

pytestmark = pytest.mark.smoke

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient, url: str) -> Samples:
    answer = await client.get(f"{url}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return parse(answer.text)


async def test_a_request_shows_up_by_route_template_and_status(
    stores: Stores,
) -> None:
    async with serve(create()) as url, httpx.AsyncClient() as client:
        before = await scrape(client, url)
        assert (await client.get(f"{url}/health/live")).status_code == 200
        after = await scrape(client, url)

    requests = "ojime_http_requests_total"
    labels = {"method": "GET", "route": "/health/live", "status": "200"}
    assert value(after, requests, **labels) == value(before, requests, **labels) + 1
    latency = "ojime_http_request_duration_seconds_count"
    route = {"method": "GET", "route": "/health/live"}
    assert value(after, latency, **route) == value(before, latency, **route) + 1


async def test_unknown_paths_share_one_label_and_keys_are_still_needed(
    stores: Stores,
) -> None:
    async with serve(create()) as url, httpx.AsyncClient() as client:
        refused = await client.get(f"{url}/no-such-path-a1b2c3")
        samples = await scrape(client, url)

    assert refused.status_code == 401
    unmatched = {"method": "GET", "route": "unmatched", "status": "401"}
    assert value(samples, "ojime_http_requests_total", **unmatched) >= 1
    assert not any("a1b2c3" in str(labels) for _, labels in samples)


async def test_a_worker_serves_events_handled_queue_depth_and_outbox_lag(
    runtime: Runtime, owner_engine: AsyncEngine, private_redis: str, worker_log: Path
) -> None:
    port = free_port()
    worker = start_python(
        ["-m", "tests.helpers.probe_worker"],
        worker_log,
        REDIS_URL=private_redis,
        OJIME_WORKER_METRICS_PORT=str(port),
        OJIME_WORKER_METRICS_HOST="127.0.0.1",
    )
    try:
        event = probe_event()
        await deliver(runtime.redis, event)
        await wait_until(lambda: _handled(owner_engine, event.id), timeout=30)
        async with httpx.AsyncClient() as client:
            samples = await _scrape_when_up(client, f"http://127.0.0.1:{port}")
    finally:
        stop_process(worker)

    handled = {"event_type": event.type}
    assert value(samples, "ojime_events_handled_total", **handled) == 1
    assert value(samples, "ojime_events_failed_total", **handled) == 0
    assert ("ojime_queue_depth", frozenset()) in samples
    assert value(samples, "ojime_outbox_lag_seconds") == 0


async def _handled(owner: AsyncEngine, key: object) -> bool:
    return bool(await effects(owner, key))


async def _scrape_when_up(client: httpx.AsyncClient, url: str) -> Samples:
    async def up() -> bool:
        try:
            return (await client.get(f"{url}/metrics")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_until(up, timeout=10)
    return await scrape(client, url)
