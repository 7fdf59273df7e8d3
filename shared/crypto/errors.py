"""Why a value could not be sealed or opened.

These are faults of stored data or configuration, never of a request, so they
carry no HTTP status: one that escapes a handler is logged and answered as an
internal error.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every failure to seal, open or find a key."""


class MalformedCiphertext(CryptoError):
    """The value is too short to be sealed, or names a format we do not write."""


class CiphertextRejected(CryptoError):
    """AES-GCM refused the value: it was altered, or belongs elsewhere.

    The two cannot be told apart, by design: a value copied to another table,
    column or row fails exactly as one with a flipped bit does.
    """
