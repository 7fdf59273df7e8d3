"""Tables of the ai_agent service, all in its own ``ai_agent`` schema."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from shared.tables import add_system_tables


class Base(DeclarativeBase):
    metadata = MetaData(schema="ai_agent")


SYSTEM_TABLES = add_system_tables(Base.metadata)
