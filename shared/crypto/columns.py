"""Columns that hold values sealed with the master key, and their registry.

A service declares each such column once, next to its table, and registers it
so that master key rotation finds it and re-seals every row::

    ACCESS_TOKEN = SEALED_COLUMNS.register(SealedColumn(integrations, "access_token"))

    row.access_token = ACCESS_TOKEN.seal(master_keys, token.encode(), row.id)
    token = ACCESS_TOKEN.open(master_keys, row.access_token, row.id).decode()

Rotation finds a service's registrations by importing its ``models`` module,
so that is where they belong.
"""

from __future__ import annotations

from sqlalchemy import FromClause, Table

from shared.crypto.cipher import RowId, open_sealed, seal
from shared.crypto.keyring import KeyRing


class SealedColumn:
    """A column of master-key ciphertexts, each bound to its table, column and row.

    ``table`` is a schema-qualified :class:`Table` (an ORM class's
    ``__table__`` will do). ``key_column`` is its single-column primary key;
    ``version_column``, where the table has one, records which master key
    sealed each row.
    """

    def __init__(
        self,
        table: FromClause,
        column: str,
        *,
        key_column: str = "id",
        version_column: str | None = None,
    ) -> None:
        self.table = _schema_table(table)
        self.column = column
        self.key_column = key_column
        self.version_column = version_column
        for name in (column, key_column, version_column):
            if name is not None and name not in self.table.c:
                raise ValueError(f"{self.table.fullname} has no column {name}")

    def __repr__(self) -> str:
        return f"SealedColumn({self.name})"

    @property
    def schema(self) -> str:
        return str(self.table.schema)

    @property
    def name(self) -> str:
        """``schema.table.column``, as logs and reports show it."""
        return f"{self.table.fullname}.{self.column}"

    def seal(self, ring: KeyRing, plaintext: bytes, row_id: RowId) -> bytes:
        """``plaintext`` sealed with the newest master key for this row."""
        return seal(
            ring,
            plaintext,
            table=self.table.fullname,
            column=self.column,
            row_id=row_id,
        )

    def open(self, ring: KeyRing, sealed: bytes, row_id: RowId) -> bytes:
        """The plaintext of this row's value; see :func:`open_sealed`."""
        return open_sealed(
            ring, sealed, table=self.table.fullname, column=self.column, row_id=row_id
        )


class SealedColumnRegistry:
    """The master-key columns that rotation re-seals, by schema."""

    def __init__(self) -> None:
        self._columns: dict[str, SealedColumn] = {}

    def register(self, column: SealedColumn) -> SealedColumn:
        """Add ``column``; registering the same object again changes nothing."""
        known = self._columns.setdefault(column.name, column)
        if known is not column:
            raise ValueError(f"{column.name} is registered twice")
        return column

    def in_schema(self, schema: str) -> tuple[SealedColumn, ...]:
        return tuple(
            column for column in self._columns.values() if column.schema == schema
        )


SEALED_COLUMNS = SealedColumnRegistry()
"""The registry every service adds its token columns to."""


def _schema_table(table: FromClause) -> Table:
    if not isinstance(table, Table) or table.schema is None:
        raise ValueError("a sealed column needs a table that names its schema")
    return table
