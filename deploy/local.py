"""The local runner behind ``ojime run`` and ``make run``: the whole system in
one terminal.

In order: the development keys (made on the first start), the stores (the
embedded ones under the data folder unless ``DATABASE_URL`` and ``REDIS_URL``
are given), every service's migrations, then each service and its worker as a
child process. Their output is relayed line by line behind a column naming
the source. Ctrl-C or SIGTERM stops the children (SIGTERM, then SIGKILL for
any still running ten seconds later) and then the embedded stores; a second
Ctrl-C kills the children at once.

A child that exits by itself stops everything with exit code 1 instead of
being restarted: on a developer's machine a crash should be seen and fixed,
not hidden behind a loop of restarts. In production the orchestrator that
runs ``ojime serve`` and ``ojime worker`` decides about restarts.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import httpx

from deploy.embedded import EmbeddedPostgres, EmbeddedRedis
from deploy.processes import Child, Console, Supervisor
from services.registry import SERVICES, service
from shared.secrets import load_secrets
from shared.service import ServiceSpec
from shared.settings import CommonSettings

RUNNER = "ojime"
READY_TIMEOUT_SECONDS = 60.0
_READY_POLL_SECONDS = 0.2
_READY_POLL_TIMEOUT_SECONDS = 2.0
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


def run() -> int:
    """Run the system in the foreground until Ctrl-C or SIGTERM; the exit code.

    A production start without its keys raises ``MissingSecret`` before
    anything is started.
    """
    settings = CommonSettings()
    load_secrets(settings)
    return asyncio.run(_run(settings))


def source_names() -> list[str]:
    """Every name that can appear in the runner's left-hand column."""
    names = [RUNNER, "migrate"]
    for spec in SERVICES:
        names += [spec.name, worker_name(spec)]
    return names


def worker_name(spec: ServiceSpec) -> str:
    return f"{spec.name}-worker"


async def _run(settings: CommonSettings) -> int:
    console = Console(source_names())
    supervisor = Supervisor(console)
    stop = _stop_on_signals(supervisor)
    stores = LocalStores(settings, console)
    try:
        environment = child_environment(
            os.environ, stores.database_url(), stores.redis_url(), settings.data_dir
        )
        return await _start_and_watch(supervisor, environment, stop)
    finally:
        await supervisor.stop_all()
        stores.close()
        console.write(RUNNER, "stopped")


def _stop_on_signals(supervisor: Supervisor) -> asyncio.Event:
    stop = asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():
            supervisor.kill_all()
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    return stop


class LocalStores:
    """The PostgreSQL and Redis the system uses: the given ones, or embedded."""

    def __init__(self, settings: CommonSettings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.embedded: list[EmbeddedPostgres | EmbeddedRedis] = []

    def database_url(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        postgres = EmbeddedPostgres(self.settings.data_dir)
        self.embedded.append(postgres)
        url = postgres.start()
        self.console.write(RUNNER, f"embedded PostgreSQL: {url}")
        return url

    def redis_url(self) -> str:
        if self.settings.redis_url:
            return self.settings.redis_url
        redis = EmbeddedRedis(self.settings.data_dir)
        self.embedded.append(redis)
        url = redis.start()
        self.console.write(RUNNER, f"embedded Redis: {url}")
        return url

    def close(self) -> None:
        """Stop the embedded stores, the last started first."""
        for store in reversed(self.embedded):
            store.stop()


def child_environment(
    base: Mapping[str, str], database_url: str, redis_url: str, data_dir: Path
) -> dict[str, str]:
    """The environment of every child: the runner's, plus the stores."""
    environment = {
        **base,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OJIME_DATA_DIR": str(data_dir.resolve()),
        "PYTHONUNBUFFERED": "1",
    }
    return {**upstream_urls(), **environment}


def upstream_urls() -> dict[str, str]:
    """Where the gateway finds each internal service, following its port.

    A ``GATEWAY_<SERVICE>_URL`` in the environment wins over these.
    """
    return {
        f"GATEWAY_{spec.name.upper()}_URL": base_url(spec)
        for spec in SERVICES
        if spec.internal
    }


def base_url(spec: ServiceSpec) -> str:
    """The address at which this machine reaches the service."""
    settings = spec.settings()
    host = "127.0.0.1" if settings.host in _WILDCARD_HOSTS else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


async def _start_and_watch(
    supervisor: Supervisor, environment: Mapping[str, str], stop: asyncio.Event
) -> int:
    # Starting the stores and migrating take seconds: a stop may come meanwhile.
    if stop.is_set():
        return 0
    code = await supervisor.run_to_end("migrate", cli("migrate"), environment)
    if code != 0:
        supervisor.console.write(RUNNER, f"migrations failed (exit code {code})")
        return 1
    if stop.is_set():
        return 0

    for spec in SERVICES:
        await supervisor.start(spec.name, cli("serve", spec.name), environment)
        await supervisor.start(worker_name(spec), cli("worker", spec.name), environment)

    return await _watch(supervisor, stop)


def cli(*arguments: str) -> list[str]:
    """The command line of an ``ojime`` subcommand run by this interpreter."""
    return [sys.executable, "-m", "deploy.cli", *arguments]


async def _watch(supervisor: Supervisor, stop: asyncio.Event) -> int:
    console = supervisor.console
    ready = asyncio.create_task(_announce_when_ready(console))
    exited = asyncio.create_task(supervisor.first_exit())
    stopped = asyncio.create_task(stop.wait())
    try:
        return await _first_outcome(console, ready, exited, stopped)
    finally:
        for task in (ready, exited, stopped):
            task.cancel()


async def _first_outcome(
    console: Console,
    ready: asyncio.Task[bool],
    exited: asyncio.Task[Child],
    stopped: asyncio.Task[Literal[True]],
) -> int:
    pending: set[asyncio.Task[Any]] = {ready, exited, stopped}
    while True:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if stopped in done:
            return 0
        if exited in done:
            child = exited.result()
            console.write(
                RUNNER,
                f"{child.name} exited unexpectedly "
                f"(exit code {child.process.returncode}); stopping everything",
            )
            return 1
        if not ready.result():
            return 1


async def _announce_when_ready(console: Console) -> bool:
    endpoints = {spec.name: base_url(spec) for spec in SERVICES}
    late = await wait_until_ready(endpoints, READY_TIMEOUT_SECONDS)
    if late:
        console.write(
            RUNNER,
            f"not ready after {READY_TIMEOUT_SECONDS:.0f} s: {', '.join(late)}; "
            "stopping everything",
        )
        return False

    gateway = base_url(service("gateway"))
    console.write(RUNNER, "every service is ready")
    console.write(RUNNER, f"gateway: {gateway}")
    console.write(RUNNER, f"API docs: {gateway}/docs")
    return True


async def wait_until_ready(endpoints: Mapping[str, str], timeout: float) -> list[str]:
    """Poll ``GET /health/ready`` of each service until every one answers 200;
    the names of those still not ready when ``timeout`` runs out."""
    waiting = dict(endpoints)
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=_READY_POLL_TIMEOUT_SECONDS) as client:
        while waiting and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(_READY_POLL_SECONDS)
            answers = await asyncio.gather(
                *(_is_ready(client, url) for url in waiting.values())
            )
            waiting = {
                name: url
                for (name, url), ok in zip(waiting.items(), answers, strict=True)
                if not ok
            }
    return sorted(waiting)


async def _is_ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        answer = await client.get(f"{url}/health/ready")
    except httpx.HTTPError:
        return False
    return answer.status_code == 200
