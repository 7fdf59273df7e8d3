"""ASGI middleware shared by the services: request context and identity."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.context import bind_log_context, bind_request, clear_context
from shared.crypto.keyring import KeyRing
from shared.errors import NotAuthenticated, error_body
from shared.identity import IDENTITY_HEADER, verify_identity
from shared.metrics import METRICS_PATH, record_request

log = structlog.get_logger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
UNGUARDED_PREFIX = "/health/"


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


def _request_id(scope: Scope) -> str:
    given = _header(scope, REQUEST_ID_HEADER)
    if given and _ACCEPTABLE_REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Give each request an id, echo it, and log one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        clear_context()
        request_id = _request_id(scope)
        bind_request(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here, inside the request's context, so that even an
            # unexpected failure carries the request id and the one body.
            log.error("request.failed", exc_info=exc)
            if response_started:
                raise
            await _send_json(send_with_id, 500, _INTERNAL_ERROR)
        finally:
            route = getattr(scope.get("route"), "path", None)
            seconds = time.perf_counter() - started
            record_request(scope["method"], route, status, seconds)
            log.info(
                "request.finished",
                method=scope["method"],
                route=route,
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )


class InternalIdentityMiddleware:
    """Refuse, with 401, every request without a valid signed identity.

    Health endpoints and metrics stay open so that probes and Prometheus need
    no key; neither says anything about an organization or a person.
    """

    def __init__(self, app: ASGIApp, *, keys: KeyRing, audience: str) -> None:
        self.app = app
        self.keys = keys
        self.audience = audience

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _unguarded(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            identity = verify_identity(
                _header(scope, IDENTITY_HEADER), self.keys, self.audience
            )
        except NotAuthenticated as exc:
            log.info("identity.refused", reason=exc.message)
            await _send_json(send, 401, (exc.code, exc.message))
            return
        scope.setdefault("state", {})["identity"] = identity
        bind_log_context(org_id=str(identity.org_id) if identity.org_id else None)
        await self.app(scope, receive, send)


def _unguarded(path: str) -> bool:
    return path.startswith(UNGUARDED_PREFIX) or path == METRICS_PATH


_INTERNAL_ERROR = ("internal_error", "Something went wrong on our side.")


async def _send_json(send: Send, status: int, error: tuple[str, str]) -> None:
    response = JSONResponse(error_body(*error), status_code=status)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})
