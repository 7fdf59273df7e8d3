"""Who is calling an internal service, as vouched for by the gateway.

The gateway signs, for each request it proxies, the caller's organization,
user, role, the service the request is meant for, and an expiry. Services
calling each other sign a service identity the same way. Internal services
accept a request only with a valid, unexpired identity addressed to them.
The signature is itsdangerous with SHA-256 (not its SHA-1 default) over a key
ring, newest key signing and every key verifying, so keys rotate in place.
"""

from __future__ import annotations

import hashlib
import time
from typing import Literal
from uuid import UUID

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, ConfigDict, ValidationError

from shared.crypto.keyring import KeyRing
from shared.errors import NotAuthenticated

IDENTITY_HEADER = "x-ojime-identity"
_SALT = "ojime.identity.v1"

Role = Literal["admin", "member"]


class Identity(BaseModel):
    """The caller of one internal request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["user", "service"]
    issuer: str
    audience: str
    expires_at: float
    org_id: UUID | None = None
    user_id: UUID | None = None
    role: Role | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"


def _serializer(keys: KeyRing) -> URLSafeSerializer:
    return URLSafeSerializer(
        keys.oldest_first(),
        salt=_SALT,
        signer_kwargs={"digest_method": hashlib.sha256},
    )


def sign_identity(identity: Identity, keys: KeyRing) -> str:
    return _serializer(keys).dumps(identity.model_dump(mode="json"))


def user_identity(
    *,
    issuer: str,
    audience: str,
    org_id: UUID,
    user_id: UUID | None,
    role: Role,
    ttl_seconds: float,
) -> Identity:
    return Identity(
        kind="user",
        issuer=issuer,
        audience=audience,
        expires_at=time.time() + ttl_seconds,
        org_id=org_id,
        user_id=user_id,
        role=role,
    )


def service_identity(
    *, issuer: str, audience: str, ttl_seconds: float, org_id: UUID | None = None
) -> Identity:
    return Identity(
        kind="service",
        issuer=issuer,
        audience=audience,
        expires_at=time.time() + ttl_seconds,
        org_id=org_id,
    )


def verify_identity(
    token: str | None, keys: KeyRing, audience: str, now: float | None = None
) -> Identity:
    """The identity in ``token``, or :class:`NotAuthenticated` for any flaw."""
    if not token:
        raise NotAuthenticated("This service accepts only signed requests.")
    try:
        claims = _serializer(keys).loads(token)
        identity = Identity.model_validate(claims)
    except (BadSignature, ValidationError, ValueError) as exc:
        raise NotAuthenticated("The request's identity is not valid.") from exc
    if identity.audience != audience:
        raise NotAuthenticated("The request's identity is meant for another service.")
    if identity.expires_at <= (time.time() if now is None else now):
        raise NotAuthenticated("The request's identity has expired.")
    return identity
