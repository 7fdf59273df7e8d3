"""``ojime run`` as a real subprocess, watched the way a person at a terminal would.

The runner is started exactly as ``make run`` starts it, on free ports, and
its interleaved output is collected line by line so that a test can wait for
what a person would wait for: the line that says where the gateway listens.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import psutil

from deploy.embedded import free_port, postmaster_pid
from services.registry import SERVICES

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 20.0
_SETTINGS_OF_THE_MACHINE = ("OJIME_MASTER_KEYS", "OJIME_ENV")


def free_ports() -> dict[str, int]:
    """A free loopback port for each service."""
    return {spec.name: free_port() for spec in SERVICES}


def runner_environment(
    ports: Mapping[str, int], data_dir: Path, *, embedded: bool
) -> dict[str, str]:
    """This process's environment with the ports and data folder of one run.

    ``embedded`` leaves out ``DATABASE_URL`` and ``REDIS_URL`` so that the
    runner starts its own stores under ``data_dir``.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in _SETTINGS_OF_THE_MACHINE
    }
    if embedded:
        environment.pop("DATABASE_URL", None)
        environment.pop("REDIS_URL", None)
    environment["OJIME_DATA_DIR"] = str(data_dir)
    for name, port in ports.items():
        environment[f"{name.upper()}_PORT"] = str(port)
    return environment


class RunningSystem:
    """One ``python -m deploy.cli run`` process and everything it prints."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        self.ports = {
            spec.name: int(environment[f"{spec.name.upper()}_PORT"])
            for spec in SERVICES
        }
        self.data_dir = Path(environment["OJIME_DATA_DIR"])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "run"],
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._finished = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def wait_for_line(
        self, pattern: str, timeout: float = START_TIMEOUT_SECONDS
    ) -> re.Match[str]:
        """The first output line matching ``pattern``, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if found := re.search(pattern, line):
                        return found
                remaining = deadline - time.monotonic()
                if self._finished or remaining <= 0:
                    raise AssertionError(
                        f"no line matching {pattern!r}; output:\n{self.output()}"
                    )
                self._changed.wait(remaining)

    def wait_until_ready(self) -> None:
        self.wait_for_line(r"\| API docs: ")

    def output(self) -> str:
        return "\n".join(self.lines)

    def process_tree(self) -> list[psutil.Process]:
        """The runner, everything it started, and its embedded PostgreSQL."""
        runner = psutil.Process(self.process.pid)
        tree = [runner, *runner.children(recursive=True)]
        postmaster = postmaster_pid(self.data_dir.resolve() / "postgres")
        if postmaster is not None:
            server = psutil.Process(postmaster)
            tree += [server, *server.children(recursive=True)]
        return tree

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> int:
        """Send ``signum`` to the runner and wait for its exit code."""
        self.process.send_signal(signum)
        return self.wait()

    def wait(self) -> int:
        code = self.process.wait(STOP_TIMEOUT_SECONDS)
        self._reader.join(STOP_TIMEOUT_SECONDS)
        return code

    def kill_everything(self) -> None:
        """Leave nothing behind, whatever state a failed test left it in."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(psutil.NoSuchProcess):
            for process in self.process_tree():
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
        self.wait()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._finished = True
            self._changed.notify_all()


@contextlib.contextmanager
def running(environment: Mapping[str, str]) -> Iterator[RunningSystem]:
    """A started runner that is gone after the block, even if a test failed."""
    system = RunningSystem(environment)
    try:
        yield system
    finally:
        system.kill_everything()
        assert system.process.stdout is not None
        system.process.stdout.close()


def still_alive(processes: list[psutil.Process], timeout: float) -> list[str]:
    """Those of ``processes`` still running after ``timeout`` seconds.

    A zombie counts as gone: it holds nothing but an entry in the process
    table until whoever adopted it collects it.
    """
    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [process for process in alive if _running(process)]
    return [f"{process.pid} {_describe(process)}" for process in alive]


def _running(process: psutil.Process) -> bool:
    # is_running() also notices a pid that was reused by another process.
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _describe(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return "?"
