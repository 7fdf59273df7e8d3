"""Forwarding of organization paths to the internal services that own them.

The gateway streams the request body to the service and the service's answer
back, both ways without buffering, and replaces whatever identity the caller
sent with one it signs itself for this member and this service.
"""

from __future__ import annotations

import httpx
import structlog
from fastapi import Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from services.gateway.auth import Member
from shared.context import current_request_id
from shared.crypto.keyring import KeyRing
from shared.errors import OjimeError
from shared.identity import IDENTITY_HEADER, sign_identity, user_identity
from shared.middleware import REQUEST_ID_HEADER

log = structlog.get_logger(__name__)

# Headers that describe one hop, or that the gateway alone may set.
_REQUEST_HEADERS_DROPPED = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "proxy-authorization",
        "te",
        "trailer",
        "upgrade",
        "cookie",
        "authorization",
        IDENTITY_HEADER,
        REQUEST_ID_HEADER,
    }
)
# The gateway answers with its own request id, which the service echoed anyway.
_RESPONSE_HEADERS_DROPPED = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        REQUEST_ID_HEADER,
    }
)


class UpstreamUnavailable(OjimeError):
    status_code = 502
    code = "bad_gateway"
    message = "A service behind the gateway did not answer."


class UpstreamTimeout(OjimeError):
    status_code = 504
    code = "gateway_timeout"
    message = "A service behind the gateway took too long to answer."


def _forwarded_headers(request: Request, identity_token: str) -> list[tuple[str, str]]:
    headers = [
        (name, value)
        for name, value in request.headers.items()
        if name.lower() not in _REQUEST_HEADERS_DROPPED
    ]
    headers.append((IDENTITY_HEADER, identity_token))
    headers.append((REQUEST_ID_HEADER, current_request_id() or ""))
    return headers


def _has_body(request: Request) -> bool:
    return "content-length" in request.headers or "transfer-encoding" in request.headers


async def forward(
    request: Request,
    *,
    client: httpx.AsyncClient,
    upstream: str,
    service: str,
    member: Member,
    keys: KeyRing,
    ttl_seconds: float,
) -> Response:
    """Send ``request`` on to ``service`` as ``member`` and stream its answer."""
    identity = user_identity(
        issuer="gateway",
        audience=service,
        org_id=member.org_id,
        user_id=member.user_id,
        role=member.role,
        ttl_seconds=ttl_seconds,
    )
    outgoing = client.build_request(
        request.method,
        httpx.URL(upstream + request.url.path, query=request.url.query.encode()),
        headers=_forwarded_headers(request, sign_identity(identity, keys)),
        content=request.stream() if _has_body(request) else None,
    )
    try:
        answer = await client.send(outgoing, stream=True)
    except httpx.TimeoutException as exc:
        log.warning("proxy.timeout", service=service)
        raise UpstreamTimeout() from exc
    except httpx.TransportError as exc:
        log.warning("proxy.unavailable", service=service, error=type(exc).__name__)
        raise UpstreamUnavailable() from exc
    response = StreamingResponse(
        answer.aiter_raw(),
        status_code=answer.status_code,
        background=BackgroundTask(answer.aclose),
    )
    # Raw pairs keep repeated headers, such as several Set-Cookie, intact.
    response.raw_headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in answer.headers.multi_items()
        if name.lower() not in _RESPONSE_HEADERS_DROPPED
    ]
    return response
