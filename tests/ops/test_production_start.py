"""Started the way the manifests start them, the processes work: production
keys, each service as its own role from a database address without
credentials, and metrics that Prometheus can scrape without a key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from deploy.embedded import free_port
from services.registry import SERVICES
from shared.secrets import load_secrets
from shared.settings import CommonSettings
from tests.conftest import Stores
from tests.helpers.harness import log_events, start_python, stop_process, wait_until
from tests.ops.test_metrics import Samples, parse, value

pytestmark = pytest.mark.smoke


def production_environment(stores: Stores) -> dict[str, str]:
    """Fresh production keys, and the roles' passwords this run's database has."""
    generated = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "keys", "generate"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    keys = dict(line.split("=", 1) for line in generated.splitlines())
    existing = load_secrets(CommonSettings())
    for spec in SERVICES:
        keys[f"{spec.name.upper()}_DB_PASSWORD"] = existing.db_password(spec.name)
    return {**keys, "OJIME_ENV": "production"}


def without_credentials(database_url: str) -> str:
    url = make_url(database_url).set(username=None, password=None)
    return url.render_as_string(hide_password=False)


async def test_a_production_service_and_worker_run_as_their_roles_and_are_scraped(
    stores: Stores, tmp_path: Path
) -> None:
    environment = production_environment(stores)
    migrate = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "migrate"],
        env={**os.environ, **environment},
        capture_output=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr.decode()

    service_port, metrics_port = free_port(), free_port()
    serving = {
        **environment,
        "DATABASE_URL": without_credentials(stores.database_url),
        "CONTACTS_PORT": str(service_port),
        "OJIME_WORKER_METRICS_PORT": str(metrics_port),
        "OJIME_WORKER_METRICS_HOST": "127.0.0.1",
    }
    processes = [
        start_python(
            ["-m", "deploy.cli", command, "contacts"],
            tmp_path / f"{command}.log",
            **serving,
        )
        for command in ("serve", "worker")
    ]
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            service = f"http://127.0.0.1:{service_port}"
            await wait_until(lambda: _answers(client, f"{service}/health/ready"), 60)
            refused = await client.get(f"{service}/no-such-route")
            scraped = await _scrape(client, f"{service}/metrics")
            worker_metrics = f"http://127.0.0.1:{metrics_port}/metrics"
            worker = await _wait_for_scrape(client, worker_metrics)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        exit_codes = [process.wait(timeout=20) for process in processes]
    finally:
        for process in processes:
            stop_process(process)

    # uvicorn drains, then raises the signal it caught again to exit by it.
    assert exit_codes == [-signal.SIGTERM, 0]
    assert "Application shutdown complete." in log_events(tmp_path / "serve.log")
    assert "worker.stopped" in log_events(tmp_path / "worker.log")

    assert refused.status_code == 401
    ready = {"method": "GET", "route": "/health/ready", "status": "200"}
    assert value(scraped, "ojime_http_requests_total", **ready) >= 1
    assert ("ojime_queue_depth", frozenset()) in worker


async def _answers(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


async def _scrape(client: httpx.AsyncClient, url: str) -> Samples:
    answer = await client.get(url)
    assert answer.status_code == 200
    return parse(answer.text)


async def _wait_for_scrape(client: httpx.AsyncClient, url: str) -> Samples:
    await wait_until(lambda: _answers(client, url), 30)
    return await _scrape(client, url)
