"""Publish the waiting outbox rows with the real relay step, then die unmarked.

Run as ``python -m tests.helpers.relay_and_die``. The rows are claimed and
published exactly as the relay does it, and the process exits at once,
before the transaction that would mark them published can commit.
"""

from __future__ import annotations

import asyncio
import os

from shared.events import Outbox, publish
from shared.runtime import open_runtime
from tests.helpers.probe import PROBE


async def publish_without_marking() -> None:
    spec = PROBE.spec
    runtime = open_runtime(spec, spec.settings())
    async with runtime.sessions() as session, session.begin():
        rows = await Outbox(spec.schema).claim_unpublished(session, limit=100)
        for row in rows:
            await publish(runtime.redis, PROBE.routes, row)
        print(len(rows), flush=True)
        os._exit(0)


if __name__ == "__main__":
    asyncio.run(publish_without_marking())
