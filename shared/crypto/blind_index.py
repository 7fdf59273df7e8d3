"""Keyed blind indexes: exact-match lookups of encrypted values.

A blind index is HMAC-SHA256 over a normalised value, keyed by a key derived
with HKDF from the organization's data key. Stored next to the sealed value,
it finds a row by value (a Shopify redact by email) without decrypting every
row. Organizations get unrelated indexes for the same value, and destroying
an organization's data key leaves its indexes matching nothing anyone can
compute again.

Normalisation, applied before hashing:

- email: Unicode NFKC, case folding, NFKC again (folding can undo it), then
  surrounding whitespace removed. ``" Ann@Example.COM "`` matches
  ``"ann@example.com"``. Dots and ``+tags`` are kept: they may name a
  different mailbox.
- phone: Unicode NFKC, then every character but the ASCII digits dropped,
  with a leading ``+`` kept.
  ``"+1 (555) 010-2000"`` matches ``"+15550102000"``, but not
  ``"15550102000"``: the country code cannot be guessed.

Each kind has its own HMAC input prefix, so an email and a phone number that
happen to be the same string never share an index.
"""

from __future__ import annotations

import hashlib
import hmac
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INDEX_KEY_BYTES = 32
_HKDF_INFO = b"ojime.blind-index.v1"


def normalize_email(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def normalize_phone(value: str) -> str:
    # NFKC turns full-width and other compatibility digits into ASCII ones.
    normalized = unicodedata.normalize("NFKC", value).strip()
    digits = "".join(
        character for character in normalized if character in string.digits
    )
    return "+" + digits if normalized.startswith("+") else digits


@dataclass(frozen=True)
class IndexKind:
    """What is indexed, and how a value of it is normalised first."""

    name: str
    normalize: Callable[[str], str]


EMAIL = IndexKind("email", normalize_email)
PHONE = IndexKind("phone", normalize_phone)


class BlindIndexer:
    """Blind indexes under one organization's data key."""

    def __init__(self, data_key: bytes) -> None:
        self._key = derive_index_key(data_key)

    def __repr__(self) -> str:
        return "BlindIndexer()"

    def index(self, kind: IndexKind, value: str) -> bytes:
        """The 32-byte index of ``value``, equal for values that normalise alike."""
        message = kind.name.encode() + b"\x00" + kind.normalize(value).encode()
        return hmac.digest(self._key, message, hashlib.sha256)


def derive_index_key(data_key: bytes) -> bytes:
    """The HMAC key of the blind indexes: HKDF-SHA256 of the data key."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=_INDEX_KEY_BYTES, salt=None, info=_HKDF_INFO
    )
    return hkdf.derive(data_key)
