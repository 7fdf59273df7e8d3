"""Run the probe service's worker, its loops quickened for tests.

Run as ``python -m tests.helpers.probe_worker``; it stops on SIGTERM.
"""

from __future__ import annotations

from shared.worker import WorkerOptions, run_worker
from tests.helpers.probe import PROBE

FAST = WorkerOptions(
    relay_interval_seconds=0.1,
    sweep_interval_seconds=0.2,
    longest_backoff_seconds=1.0,
)

if __name__ == "__main__":
    run_worker(PROBE, FAST)
