"""Commit a probe event to the outbox, print its id, and die before any relay.

Run as ``python -m tests.helpers.emit_and_die``; the process ends by SIGKILL,
so nothing after the commit (no relay, no clean shutdown) ever runs.
"""

from __future__ import annotations

import asyncio
import os
import signal

from shared.db import unit_of_work
from shared.events import Outbox
from shared.runtime import open_runtime
from tests.helpers.probe import PROBE, probe_event


async def emit() -> None:
    spec = PROBE.spec
    runtime = open_runtime(spec, spec.settings())
    event = probe_event()
    async with unit_of_work(runtime.sessions, event.org_id) as session:
        await Outbox(spec.schema).emit(session, event, [spec.name])
    print(event.id, flush=True)


if __name__ == "__main__":
    asyncio.run(emit())
    os.kill(os.getpid(), signal.SIGKILL)
