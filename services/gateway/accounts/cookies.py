"""The session cookie and the CSRF token bound to it.

The cookie holds a random session token, encrypted with AES-GCM and then
signed with itsdangerous over SHA-256, both under keys derived from the
cookie key ring; the newest key writes, every key reads, so keys rotate
without signing anyone out. The database keeps only a hash of the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from itsdangerous import BadSignature, TimestampSigner

from shared.crypto.keyring import KeyRing, UnknownKeyVersion

TOKEN_BYTES = 32
_NONCE_BYTES = 12
_VERSION = struct.Struct(">I")


class InvalidCookie(ValueError):
    """A cookie that was not made by us, was altered, or is too old."""


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"ojime " + purpose
    ).derive(key)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_hash(token: bytes) -> bytes:
    """What the database keeps of a session token."""
    return hashlib.sha256(token).digest()


class SessionCookieCodec:
    """Turns a session token into a cookie value and back."""

    def __init__(self, keys: KeyRing, *, secure: bool, max_age_seconds: int) -> None:
        self.keys = keys
        self.secure = secure
        self.max_age_seconds = max_age_seconds
        self._encryption = {
            version: AESGCM(_derive(key, b"session cookie encryption"))
            for version, key in keys.keys.items()
        }
        self._signer = TimestampSigner(
            [_derive(key, b"session cookie signing") for key in keys.oldest_first()],
            salt="ojime.session",
            digest_method=hashlib.sha256,
        )
        self._csrf_keys = [
            _derive(key, b"csrf") for key in reversed(keys.oldest_first())
        ]

    @property
    def name(self) -> str:
        # __Host- makes browsers insist on Secure, Path=/ and no Domain.
        return "__Host-ojime_session" if self.secure else "ojime_session"

    def encode(self, token: bytes) -> str:
        version = self.keys.current_version
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._encryption[version].encrypt(nonce, token, _VERSION.pack(version))
        value = _b64(_VERSION.pack(version) + nonce + sealed)
        return self._signer.sign(value).decode("ascii")

    def decode(self, cookie: str) -> bytes:
        try:
            value = self._signer.unsign(cookie, max_age=self.max_age_seconds)
            blob = _unb64(value.decode("ascii"))
            (version,) = _VERSION.unpack_from(blob)
            nonce = blob[_VERSION.size : _VERSION.size + _NONCE_BYTES]
            sealed = blob[_VERSION.size + _NONCE_BYTES :]
            return self._cipher(version).decrypt(nonce, sealed, _VERSION.pack(version))
        except (BadSignature, InvalidTag, ValueError, KeyError, struct.error) as exc:
            raise InvalidCookie() from exc

    def _cipher(self, version: int) -> AESGCM:
        try:
            return self._encryption[version]
        except KeyError:
            raise UnknownKeyVersion(version) from None

    def csrf_token(self, token: bytes) -> str:
        """The CSRF token of the session whose token is ``token``."""
        return _b64(hmac.new(self._csrf_keys[0], token, hashlib.sha256).digest())

    def csrf_token_matches(self, token: bytes, offered: str) -> bool:
        return any(
            hmac.compare_digest(
                _b64(hmac.new(key, token, hashlib.sha256).digest()), offered
            )
            for key in self._csrf_keys
        )
