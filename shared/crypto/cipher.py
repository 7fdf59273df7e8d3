"""AES-256-GCM for values stored in a column, each bound to the cell it lives in.

A sealed value is laid out as::

    format (1 byte) | key version (4 bytes, big-endian) | nonce (12) | ciphertext+tag

The nonce is 96 random bits from the operating system, fresh for every value.
The associated data is the header plus the qualified table name, the column
and the row id, so a value copied to another table, column or row, or given
another key version, does not open. Every key of the ring opens; only the
newest seals.
"""

from __future__ import annotations

import os
import struct
from uuid import UUID

from cryptography.exceptions import InvalidTag

from shared.crypto.errors import CiphertextRejected, MalformedCiphertext
from shared.crypto.keyring import KeyRing

FORMAT_V1 = 1
NONCE_BYTES = 12
TAG_BYTES = 16

_HEADER = struct.Struct(">BI")
_BODY_START = _HEADER.size + NONCE_BYTES
_ADDRESS_LABEL = b"ojime.cell.v1"
_LENGTHS = struct.Struct(">III")

RowId = UUID | int | str
"""A row's primary key. It is bound as ``str(row_id)``: canonical UUIDs and
decimal integers, as the database returns them."""


def seal(
    ring: KeyRing, plaintext: bytes, *, table: str, column: str, row_id: RowId
) -> bytes:
    """Encrypt ``plaintext`` with the ring's newest key, bound to one cell.

    ``table`` is the schema-qualified name (``gateway.integrations``).
    """
    version = ring.current_version
    header = version_prefix(version)
    nonce = os.urandom(NONCE_BYTES)
    associated = header + cell_address(table, column, row_id)
    ciphertext = ring.aes_gcm(version).encrypt(nonce, plaintext, associated)
    return header + nonce + ciphertext


def open_sealed(
    ring: KeyRing, sealed: bytes, *, table: str, column: str, row_id: RowId
) -> bytes:
    """The plaintext of a value sealed for this cell with a key of the ring.

    Raises :class:`MalformedCiphertext`, :class:`UnknownKeyVersion` or
    :class:`CiphertextRejected`; it never returns a wrong plaintext.
    """
    cipher = ring.aes_gcm(sealed_key_version(sealed))
    nonce, body = sealed[_HEADER.size : _BODY_START], sealed[_BODY_START:]
    associated = sealed[: _HEADER.size] + cell_address(table, column, row_id)
    try:
        return cipher.decrypt(nonce, body, associated)
    except InvalidTag:
        raise CiphertextRejected(
            f"a value in {table}.{column} was altered or belongs to another cell"
        ) from None


def sealed_key_version(sealed: bytes) -> int:
    """The version of the key that sealed ``sealed``, read from its header."""
    if len(sealed) < _BODY_START + TAG_BYTES:
        raise MalformedCiphertext("the value is too short to be sealed")
    value_format, version = _HEADER.unpack_from(sealed)
    if value_format != FORMAT_V1:
        raise MalformedCiphertext(f"unknown sealed format {value_format}")
    return int(version)


def version_prefix(version: int) -> bytes:
    """The header bytes of every value sealed with key ``version``."""
    return _HEADER.pack(FORMAT_V1, version)


def cell_address(table: str, column: str, row_id: RowId) -> bytes:
    """The bytes that name one cell.

    The three lengths come before the parts, so no two different cells (say
    table ``s.t`` with column ``ab``, and ``s.ta`` with ``b``) give the same bytes.
    """
    parts = (table.encode(), column.encode(), str(row_id).encode())
    return _ADDRESS_LABEL + _LENGTHS.pack(*map(len, parts)) + b"".join(parts)
