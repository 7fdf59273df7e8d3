"""An operator reading the logs: every line the process writes, as written."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


class _Lines(logging.Handler):
    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def read_logs() -> Iterator[list[str]]:
    """The lines logged while inside, rendered by the process's own formatter.

    Enter it after the application is created, which configures logging.
    """
    root = logging.getLogger()
    formatter = root.handlers[0].formatter if root.handlers else None
    reader = _Lines(formatter)
    root.addHandler(reader)
    try:
        yield reader.lines
    finally:
        root.removeHandler(reader)
