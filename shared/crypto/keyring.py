"""A versioned set of 256-bit keys: the newest encrypts, every one decrypts.

Written as ``"2:<base64url>,1:<base64url>"``. Rotating means adding a key with
a higher version, re-encrypting, then (later) dropping the old one.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.crypto.errors import CryptoError

KEY_BYTES = 32


class KeyRingError(ValueError):
    """A key ring setting that cannot be used."""


class UnknownKeyVersion(CryptoError, LookupError):
    """A ciphertext names a key version this ring does not hold."""

    def __init__(self, version: int) -> None:
        self.version = version
        super().__init__(f"no key of version {version} in this key ring")


def _decode_key(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        key = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise KeyRingError("a key is not valid base64url") from exc
    if len(key) != KEY_BYTES:
        raise KeyRingError(f"a key must be {KEY_BYTES} bytes")
    return key


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class KeyRing:
    # Left out of repr so that a ring in a traceback or a log shows no key.
    keys: Mapping[int, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyRingError("a key ring needs at least one key")
        if any(version < 1 or version > 2**32 - 1 for version in self.keys):
            raise KeyRingError("key versions are whole numbers from 1")

    @classmethod
    def parse(cls, text: str) -> KeyRing:
        keys: dict[int, bytes] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            version_text, sep, key_text = item.partition(":")
            if not sep or not version_text.isdigit():
                raise KeyRingError("each key is written as <version>:<base64url>")
            version = int(version_text)
            if version in keys:
                raise KeyRingError(f"key version {version} appears twice")
            keys[version] = _decode_key(key_text)
        return cls(keys)

    @classmethod
    def generate(cls) -> KeyRing:
        return cls({1: secrets.token_bytes(KEY_BYTES)})

    @property
    def current_version(self) -> int:
        return max(self.keys)

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_version]

    def key(self, version: int) -> bytes:
        try:
            return self.keys[version]
        except KeyError:
            raise UnknownKeyVersion(version) from None

    def aes_gcm(self, version: int) -> AESGCM:
        """The AES-256-GCM cipher of key ``version``, built once per ring."""
        cipher = self._ciphers.get(version)
        if cipher is None:
            cipher = self._ciphers[version] = AESGCM(self.key(version))
        return cipher

    @cached_property
    def _ciphers(self) -> dict[int, AESGCM]:
        return {}

    def with_new_key(self) -> KeyRing:
        """This ring plus a fresh key that becomes the current one."""
        return KeyRing({**self.keys, self.current_version + 1: _new_key()})

    def oldest_first(self) -> list[bytes]:
        return [self.keys[version] for version in sorted(self.keys)]

    def serialize(self) -> str:
        return ",".join(
            f"{version}:{encode_key(self.keys[version])}"
            for version in sorted(self.keys, reverse=True)
        )


def _new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)
