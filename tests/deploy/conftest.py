"""Fixtures of the start-up tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh data folder outside pytest's own temporary root.

    Run as root, the embedded PostgreSQL runs as an unprivileged user, who
    must be able to reach the folder; pytest makes its root private to the
    user running it, and does so again whenever another pytest starts.
    """
    path = Path(tempfile.mkdtemp(prefix="ojime-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
