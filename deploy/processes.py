"""Child processes of the local runner: started, relayed, watched and stopped.

Every child runs in a process group of its own, so a Ctrl-C typed in the
terminal reaches the runner alone and the runner decides the order in which
things stop. On Linux every child also asks the kernel for SIGTERM when the
runner dies, so a runner killed outright leaves no child behind; on other
systems such a runner can leave children that must be stopped by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

STOP_TIMEOUT_SECONDS = 10.0
_LINE_LIMIT_BYTES = 1 << 20
_RELAY_DRAIN_SECONDS = 2.0
_PR_SET_PDEATHSIG = 1

_prctl: Callable[..., int] | None = (
    ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
)


class Console:
    """Writes lines to the terminal behind a fixed-width column naming their source."""

    def __init__(self, sources: Iterable[str], stream: TextIO | None = None) -> None:
        self.width = max(len(source) for source in sources)
        self.stream = stream or sys.stdout

    def write(self, source: str, line: str) -> None:
        self.stream.write(f"{source:<{self.width}} | {line}\n")
        self.stream.flush()


@dataclass
class Child:
    """One running child process and the tasks that follow it."""

    name: str
    process: asyncio.subprocess.Process
    relay: asyncio.Task[None]
    exited: asyncio.Task[int]

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def signal_group(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the child and anything it started itself."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)


class Supervisor:
    """Starts children, relays their output, and stops them in order."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.children: list[Child] = []

    async def start(
        self, name: str, argv: Sequence[str], environment: Mapping[str, str]
    ) -> Child:
        """Start ``argv`` as a child whose output appears under ``name``."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(environment),
            process_group=0,
            preexec_fn=_die_with_parent(os.getpid()),
            limit=_LINE_LIMIT_BYTES,
        )
        assert process.stdout is not None
        relay = asyncio.create_task(self._relay(name, process.stdout))
        child = Child(name, process, relay, asyncio.create_task(process.wait()))
        self.children.append(child)
        return child

    async def run_to_end(
        self, name: str, argv: Sequence[str], environment: Mapping[str, str]
    ) -> int:
        """Run a child until it exits by itself; its exit code."""
        child = await self.start(name, argv, environment)
        code = await child.exited
        await child.relay
        self.children.remove(child)
        return code

    async def first_exit(self) -> Child:
        """Wait until any child exits, and return it."""
        waiting = {child.exited: child for child in self.children}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        return waiting[done.pop()]

    async def stop_all(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM every child, SIGKILL those still running after ``timeout``."""
        for child in self.children:
            child.signal_group(signal.SIGTERM)

        await self._wait_for_exits(timeout)

        for child in self.children:
            if child.running:
                self.console.write(child.name, "did not stop in time: killed")
        self.kill_all()

        await self._wait_for_exits(None)
        await self._drain_relays()

    def kill_all(self) -> None:
        """SIGKILL every child still running."""
        for child in self.children:
            child.signal_group(signal.SIGKILL)

    async def _wait_for_exits(self, timeout: float | None) -> None:
        exits = [child.exited for child in self.children]
        if exits:
            await asyncio.wait(exits, timeout=timeout)

    async def _drain_relays(self) -> None:
        relays = [child.relay for child in self.children]
        if relays:
            await asyncio.wait(relays, timeout=_RELAY_DRAIN_SECONDS)

    async def _relay(self, name: str, stream: asyncio.StreamReader) -> None:
        while line := await _read_line(stream):
            self.console.write(name, line.decode(errors="replace").rstrip("\r\n"))


async def _read_line(stream: asyncio.StreamReader) -> bytes:
    try:
        return await stream.readline()
    except ValueError:
        # asyncio discards a line longer than the reader's limit; say so.
        return b"(a line longer than 1 MiB was left out)"


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    if _prctl is None:
        return None
    prctl = _prctl

    def ask_for_sigterm_when_parent_dies() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have died before the request took effect.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return ask_for_sigterm_when_parent_dies
