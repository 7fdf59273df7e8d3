"""Tables of the deletion service, all in its own ``deletion`` schema.

Every table here but the system tables carries ``org_id`` and sits under
row-level security. They hold ids and times only: a deletion request must be
answerable after the organization's names and people are gone.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.tables import add_system_tables

TENANT_TABLES = ("deletion_requests", "purge_runs")

SCHEDULED = "scheduled"
CANCELLED = "cancelled"
PURGING = "purging"
REQUEST_STATES = (SCHEDULED, CANCELLED, PURGING)


class Base(DeclarativeBase):
    metadata = MetaData(schema="deletion")


SYSTEM_TABLES = add_system_tables(Base.metadata)


class DeletionRequest(Base):
    """An admin's request to delete the organization, and its grace window.

    The window's end is also a work item with the same id: the sweep finds it
    when due even if Redis has lost every job.
    """

    __tablename__ = "deletion_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID]
    requested_by: Mapped[uuid.UUID]
    state: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    cancelled_by: Mapped[uuid.UUID | None]
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "state in ('scheduled', 'cancelled', 'purging')",
            name="deletion_requests_state",
        ),
        Index(
            "deletion_requests_one_open",
            "org_id",
            unique=True,
            postgresql_where=text("state <> 'cancelled'"),
        ),
        Index("deletion_requests_org_time", "org_id", "requested_at"),
    )


class PurgeRun(Base):
    """The purge of one organization, started when its grace window ended,
    and once ``completed_at`` is set, its receipt: ids, times and each
    service's counts of deleted rows, nothing personal.

    It shares its request's id: one request starts at most one run.
    """

    __tablename__ = "purge_runs"

    id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("deletion_requests.id"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'"))
