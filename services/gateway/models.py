"""Tables of the gateway service, all in its own ``gateway`` schema."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from shared.tables import add_system_tables


class Base(DeclarativeBase):
    metadata = MetaData(schema="gateway")


SYSTEM_TABLES = add_system_tables(Base.metadata)
