"""Per-organization data keys, wrapped by the master key, one set per schema.

Personal data (emails, phones, property values, message text) is sealed with
the organization's data key, not with the master key. Each service keeps its
own data key for each organization in ``<schema>.org_keys``, sealed with the
master key and bound to that schema and organization, so a wrapped key copied
to another schema or organization does not open.

Deleting the row destroys the key: from the commit on, nothing the key sealed
can be opened and its blind indexes cannot be computed again, in any process.
An unwrapped key is cached on the session only until its transaction ends, so
a destroyed key is never read from a cache. A database backup taken before
the destruction still holds the wrapped key; it becomes useless once the
master key that wrapped it is rotated out and dropped.

These functions query and never commit; the caller's unit of work does. They
expect READ COMMITTED, the default: a concurrent first use then waits for the
other transaction's key instead of failing.
"""

from __future__ import annotations

import secrets
from functools import cache
from uuid import UUID

from sqlalchemy import MetaData, delete, event, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from shared.crypto.blind_index import BlindIndexer, IndexKind
from shared.crypto.cipher import RowId, open_sealed, seal
from shared.crypto.columns import SealedColumn
from shared.crypto.errors import CryptoError
from shared.crypto.keyring import KeyRing
from shared.tables import org_keys_table

DATA_KEY_BYTES = 32
_CACHE = "ojime.data_keys"


class OrganizationKeyMissing(CryptoError):
    """The organization has no data key here: it was destroyed, or never made."""


class DataKey:
    """One organization's unwrapped data key.

    It seals that organization's personal data, each value bound to its table,
    column and row as :func:`shared.crypto.cipher.seal` does, and keys its
    blind indexes.
    """

    def __init__(self, org_id: UUID, key: bytes) -> None:
        self.org_id = org_id
        # Rotation re-wraps a data key but never replaces it: one version.
        self._ring = KeyRing({1: key})
        self._indexer = BlindIndexer(key)

    def __repr__(self) -> str:
        return f"DataKey(org_id={self.org_id})"

    def seal(
        self, plaintext: bytes, *, table: str, column: str, row_id: RowId
    ) -> bytes:
        """``plaintext`` sealed for one cell; ``table`` is schema-qualified."""
        return seal(self._ring, plaintext, table=table, column=column, row_id=row_id)

    def open(self, sealed: bytes, *, table: str, column: str, row_id: RowId) -> bytes:
        """The plaintext of a value this key sealed for this cell."""
        return open_sealed(
            self._ring, sealed, table=table, column=column, row_id=row_id
        )

    def blind_index(self, kind: IndexKind, value: str) -> bytes:
        """The keyed index of ``value``; see :mod:`shared.crypto.blind_index`."""
        return self._indexer.index(kind, value)


@cache
def wrapped_keys_column(schema: str) -> SealedColumn:
    """Where ``schema`` keeps its organizations' data keys, as rotation sees it."""
    return SealedColumn(
        org_keys_table(MetaData(schema=schema)),
        "wrapped_key",
        key_column="org_id",
        version_column="master_key_version",
    )


async def get_or_create_data_key(
    session: AsyncSession, schema: str, org_id: UUID, master_keys: KeyRing
) -> DataKey:
    """The organization's data key in ``schema``, made on first use.

    Callers racing to make the first key all end with the one that was stored.
    """
    found = await _find_data_key(session, schema, org_id, master_keys)
    if found is not None:
        return found

    await _insert_if_absent(session, schema, org_id, master_keys)
    return await load_data_key(session, schema, org_id, master_keys)


async def load_data_key(
    session: AsyncSession, schema: str, org_id: UUID, master_keys: KeyRing
) -> DataKey:
    """The organization's existing data key, for reading what it sealed.

    Raises :class:`OrganizationKeyMissing` once the key is destroyed.
    """
    found = await _find_data_key(session, schema, org_id, master_keys)
    if found is None:
        raise OrganizationKeyMissing(
            f"organization {org_id} has no data key in schema {schema}"
        )
    return found


async def destroy_data_key(session: AsyncSession, schema: str, org_id: UUID) -> bool:
    """Delete the organization's data key from ``schema``; True if it had one.

    Once the transaction commits, nothing the key sealed can be opened again.
    """
    _session_keys(session).pop((schema, org_id), None)

    table = wrapped_keys_column(schema).table
    deleted = await session.execute(
        delete(table).where(table.c.org_id == org_id).returning(table.c.org_id)
    )
    return deleted.scalar_one_or_none() is not None


async def _find_data_key(
    session: AsyncSession, schema: str, org_id: UUID, master_keys: KeyRing
) -> DataKey | None:
    cached = _session_keys(session).get((schema, org_id))
    if cached is not None:
        return cached

    column = wrapped_keys_column(schema)
    wrapped = await session.scalar(
        select(column.table.c.wrapped_key).where(column.table.c.org_id == org_id)
    )
    if wrapped is None:
        return None

    data_key = DataKey(org_id, column.open(master_keys, wrapped, org_id))
    _session_keys(session)[(schema, org_id)] = data_key
    return data_key


async def _insert_if_absent(
    session: AsyncSession, schema: str, org_id: UUID, master_keys: KeyRing
) -> None:
    column = wrapped_keys_column(schema)
    fresh = secrets.token_bytes(DATA_KEY_BYTES)
    await session.execute(
        insert(column.table)
        .values(
            org_id=org_id,
            master_key_version=master_keys.current_version,
            wrapped_key=column.seal(master_keys, fresh, org_id),
        )
        .on_conflict_do_nothing(index_elements=["org_id"])
    )


def _session_keys(session: AsyncSession) -> dict[tuple[str, UUID], DataKey]:
    keys: dict[tuple[str, UUID], DataKey] = session.info.setdefault(_CACHE, {})
    return keys


@event.listens_for(Session, "after_transaction_end")
def _forget_keys(session: Session, transaction: SessionTransaction) -> None:
    # A key read or made in a transaction is trusted only inside it: after a
    # rollback it may not exist, and after a commit another process may have
    # destroyed it.
    if transaction.parent is None:
        session.info.pop(_CACHE, None)
