"""Secrets that name their organization: ``<prefix>_<org id hex>_<random>``.

Naming the organization lets the lookup of a secret run inside that
organization's row-level scope before anything else is known about it. The
random part is 256 bits, so the name gives a guesser nothing.
"""

from __future__ import annotations

import secrets
import uuid

_RANDOM_BYTES = 32
# token_urlsafe(32) gives 43 characters; anything much shorter is not ours.
_MIN_RANDOM_CHARS = 32


def new_org_token(prefix: str, org_id: uuid.UUID) -> str:
    return f"{prefix}_{org_id.hex}_{secrets.token_urlsafe(_RANDOM_BYTES)}"


def organization_named(prefix: str, token: str) -> uuid.UUID | None:
    """The organization ``token`` names, or None if it is not of this kind."""
    given_prefix, _, rest = token.partition("_")
    org_hex, _, random_part = rest.partition("_")
    if given_prefix != prefix or len(random_part) < _MIN_RANDOM_CHARS:
        return None
    try:
        return uuid.UUID(hex=org_hex)
    except ValueError:
        return None
