"""Asking the gateway for an organization's Instagram token.

The gateway keeps the token sealed and hands it only to a caller with a
service identity; both the profile fetch and the send path ask this way.
"""

from __future__ import annotations

import uuid

from services.contacts import SPEC
from services.contacts.settings import contacts_settings
from shared.identity import IDENTITY_HEADER, service_identity, sign_identity
from shared.runtime import Runtime


def instagram_token_request(
    runtime: Runtime, org_id: uuid.UUID
) -> tuple[str, dict[str, str]]:
    """The gateway address of the token, and the signed headers to send."""
    settings = contacts_settings(runtime)
    identity = service_identity(
        issuer=SPEC.name,
        audience="gateway",
        ttl_seconds=settings.identity_ttl_seconds,
        org_id=org_id,
    )
    keys = runtime.secrets.internal_signing_keys
    url = f"{settings.gateway_url}/internal/orgs/{org_id}/instagram-token"
    return url, {IDENTITY_HEADER: sign_identity(identity, keys)}
