"""Sealed values open only with a key of the ring, unaltered, in their own cell.

Layout of a sealed value, as shared/crypto/cipher.py writes it:
format (1 byte) | key version (4) | nonce (12) | ciphertext and tag.
"""

from __future__ import annotations

import uuid
from typing import TypedDict

import pytest

from shared.crypto.cipher import RowId, open_sealed, seal, sealed_key_version
from shared.crypto.errors import CiphertextRejected, MalformedCiphertext
from shared.crypto.keyring import KeyRing, UnknownKeyVersion


class Cell(TypedDict):
    table: str
    column: str
    row_id: RowId


RING = KeyRing.generate()
ROW = uuid.UUID("00000000-0000-4000-8000-000000000001")
CELL = Cell(table="gateway.integrations", column="access_token", row_id=ROW)
HEADER_BYTES = 5
NONCE_END = HEADER_BYTES + 12


def test_a_sealed_value_opens_to_what_was_sealed() -> None:
    for plaintext in (b"", b"IGQVJ-token", "é🔑".encode() * 10_000):
        sealed = seal(RING, plaintext, **CELL)

        assert open_sealed(RING, sealed, **CELL) == plaintext


def test_the_row_id_may_be_given_as_a_uuid_or_its_text() -> None:
    sealed = seal(RING, b"token", **CELL)

    as_text = Cell(table=CELL["table"], column=CELL["column"], row_id=str(ROW))

    opened = open_sealed(RING, sealed, **as_text)

    assert opened == b"token"


def test_the_same_plaintext_seals_differently_every_time() -> None:
    assert seal(RING, b"token", **CELL) != seal(RING, b"token", **CELL)


def test_no_key_and_nonce_pair_repeats_over_a_million_seals() -> None:
    pairs = set()
    for _ in range(1_000_000):
        sealed = seal(RING, b"x", **CELL)
        pairs.add((sealed[:HEADER_BYTES], sealed[HEADER_BYTES:NONCE_END]))

    assert len(pairs) == 1_000_000


def test_the_newest_key_seals_and_every_key_of_the_ring_opens() -> None:
    old = KeyRing.generate()
    rotated = old.with_new_key()
    before = seal(old, b"token", **CELL)

    after = seal(rotated, b"token", **CELL)

    assert (sealed_key_version(before), sealed_key_version(after)) == (1, 2)
    assert open_sealed(rotated, before, **CELL) == b"token"
    assert open_sealed(rotated, after, **CELL) == b"token"


def test_every_flipped_bit_is_refused() -> None:
    sealed = seal(RING, b"token", **CELL)

    for bit in range(len(sealed) * 8):
        flipped = bytearray(sealed)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(_refusal_for_byte(bit // 8)):
            open_sealed(RING, bytes(flipped), **CELL)


def _refusal_for_byte(index: int) -> type[Exception]:
    if index == 0:
        return MalformedCiphertext
    if index < HEADER_BYTES:
        return UnknownKeyVersion
    return CiphertextRejected


@pytest.mark.parametrize(
    "elsewhere",
    [
        Cell(
            table="gateway.integrations",
            column="access_token",
            row_id=uuid.UUID("00000000-0000-4000-8000-000000000002"),
        ),
        Cell(table="gateway.integrations", column="refresh_token", row_id=ROW),
        Cell(table="gateway.billing_profiles", column="access_token", row_id=ROW),
        Cell(table="contacts.integrations", column="access_token", row_id=ROW),
    ],
    ids=["another row", "another column", "another table", "another schema"],
)
def test_a_value_moved_to_another_cell_does_not_open(elsewhere: Cell) -> None:
    sealed = seal(RING, b"token", **CELL)

    with pytest.raises(CiphertextRejected):
        open_sealed(RING, sealed, **elsewhere)


def test_cells_whose_names_run_together_stay_apart() -> None:
    sealed = seal(RING, b"token", table="s.t", column="ab", row_id=1)

    with pytest.raises(CiphertextRejected):
        open_sealed(RING, sealed, table="s.ta", column="b", row_id=1)


def test_a_value_sealed_with_a_key_the_ring_lacks_is_refused() -> None:
    rotated = RING.with_new_key()
    newest_only = KeyRing({2: rotated.keys[2]})

    with pytest.raises(UnknownKeyVersion, match="version 2"):
        open_sealed(RING, seal(rotated, b"token", **CELL), **CELL)
    with pytest.raises(UnknownKeyVersion, match="version 1"):
        open_sealed(newest_only, seal(RING, b"token", **CELL), **CELL)


def test_another_ring_with_the_same_version_is_refused() -> None:
    stranger = KeyRing.generate()

    with pytest.raises(CiphertextRejected):
        open_sealed(stranger, seal(RING, b"token", **CELL), **CELL)


@pytest.mark.parametrize("length", [0, 1, HEADER_BYTES, NONCE_END + 15])
def test_a_value_too_short_to_be_sealed_is_refused(length: int) -> None:
    sealed = seal(RING, b"", **CELL)

    with pytest.raises(MalformedCiphertext):
        open_sealed(RING, sealed[:length], **CELL)


def test_a_key_ring_shows_no_key_when_printed() -> None:
    ring = RING.with_new_key()

    assert all(key.hex() not in repr(ring) for key in ring.keys.values())
    assert all(str(key) not in repr(ring) for key in ring.keys.values())
