"""Values bound to the request or job being handled, read anywhere below it."""

from __future__ import annotations

from contextvars import ContextVar

import structlog

_request_id: ContextVar[str | None] = ContextVar("ojime_request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request(request_id: str) -> None:
    """Bind a request id for error bodies and for every log line below it."""
    _request_id.set(request_id)
    structlog.contextvars.bind_contextvars(request_id=request_id)


def bind_log_context(**values: object) -> None:
    structlog.contextvars.bind_contextvars(**values)


def clear_context() -> None:
    _request_id.set(None)
    structlog.contextvars.clear_contextvars()
