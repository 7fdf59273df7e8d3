"""Reading a delivery's body within a bound, and checking Meta's signature."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

from services.gateway.webhooks.errors import DeliveryTooLarge, SignatureMismatch

SIGNATURE_HEADER = "x-hub-signature-256"
_PREFIX = "sha256="


async def read_bounded_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it is known to pass ``limit`` bytes.

    A declared length over the limit is refused before a byte is read; a body
    that lies about its length, or declares none, is counted as it arrives.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise DeliveryTooLarge()

    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise DeliveryTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def signature_of(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(body: bytes, header: str | None, app_secret: str | None) -> None:
    """Raise :class:`SignatureMismatch` unless ``header`` signs ``body``.

    Without an app secret no delivery can be trusted, so every one is refused.
    """
    if not app_secret or not header:
        raise SignatureMismatch()
    expected = signature_of(body, app_secret).encode()
    if not hmac.compare_digest(expected, header.strip().lower().encode()):
        raise SignatureMismatch()
