"""Tables every service keeps in its own schema, whatever its domain.

- ``outbox``: events written in the same transaction as the change they
  announce, one row per consuming service, until the relay has queued them.
- ``handled_events``: the events this service has handled, so a redelivered
  event changes nothing.
- ``work_items``: the truth about long-running or scheduled work (due time,
  state, lease, progress); arq only wakes a worker, a sweep re-drives the rest.
- ``org_keys``: each organization's data key, wrapped by the master key.
  Destroying a row makes that organization's encrypted data unreadable.

None of them is under row-level security: the relay, the sweep and key
rotation work across organizations by design. Domain tables are.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB


def _created_at() -> Column[object]:
    return Column(
        "created_at", DateTime(timezone=True), nullable=False, server_default=func.now()
    )


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("event_id", Uuid, nullable=False),
        Column("destination", Text, nullable=False),
        Column("event_type", Text, nullable=False),
        Column("org_id", Uuid, nullable=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("payload", JSONB, nullable=False),
        _created_at(),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        PrimaryKeyConstraint("event_id", "destination"),
        Index(
            "outbox_unpublished",
            "created_at",
            postgresql_where=text("published_at is null"),
        ),
    )


def handled_events_table(metadata: MetaData) -> Table:
    return Table(
        "handled_events",
        metadata,
        Column("event_id", Uuid, nullable=False),
        Column("handler", Text, nullable=False),
        Column("event_type", Text, nullable=False),
        Column(
            "handled_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=func.now(),
        ),
        PrimaryKeyConstraint("event_id", "handler"),
    )


def work_items_table(metadata: MetaData) -> Table:
    return Table(
        "work_items",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("kind", Text, nullable=False),
        Column("org_id", Uuid, nullable=True),
        Column("state", Text, nullable=False, server_default=text("'pending'")),
        Column("due_at", DateTime(timezone=True), nullable=False),
        Column("lease_expires_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("progress", JSONB, nullable=False, server_default=text("'{}'")),
        Column("last_error", Text, nullable=True),
        _created_at(),
        Column(
            "updated_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=func.now(),
        ),
        Index("work_items_due", "state", "due_at"),
    )


def org_keys_table(metadata: MetaData) -> Table:
    return Table(
        "org_keys",
        metadata,
        Column("org_id", Uuid, primary_key=True),
        Column("master_key_version", Integer, nullable=False),
        Column("wrapped_key", LargeBinary, nullable=False),
        _created_at(),
    )


def add_system_tables(metadata: MetaData) -> dict[str, Table]:
    """Declare the system tables in a service's metadata."""
    tables = (
        outbox_table(metadata),
        handled_events_table(metadata),
        work_items_table(metadata),
        org_keys_table(metadata),
    )
    return {table.name: table for table in tables}
