"""Tables of the deletion service, all in its own ``deletion`` schema."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from shared.tables import add_system_tables


class Base(DeclarativeBase):
    metadata = MetaData(schema="deletion")


SYSTEM_TABLES = add_system_tables(Base.metadata)
