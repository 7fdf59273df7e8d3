"""Database access: one async engine per service, bound to the service's role.

Each service serves requests as its own role (``ojime_<service>``) that owns no
table, cannot bypass row-level security, and reaches only its own schema. The
organization a transaction works for is set with a transaction-local
``set_config`` when the transaction begins, so a pooled connection never
carries one request's organization into the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

ORG_SETTING = "ojime.org_id"
USER_SETTING = "ojime.user_id"
_ORG_KEY = "org_id"
_USER_KEY = "user_id"


class DatabaseNotConfigured(RuntimeError):
    """No DATABASE_URL, and no embedded server was started to provide one."""


def async_url(database_url: str) -> URL:
    """The SQLAlchemy asyncpg URL for a ``postgresql://`` address."""
    url = make_url(database_url)
    if url.drivername in {"postgres", "postgresql", "postgresql+asyncpg"}:
        return url.set(drivername="postgresql+asyncpg")
    raise DatabaseNotConfigured(
        f"DATABASE_URL must be a postgresql:// address, not {url.drivername}://"
    )


def role_name(service: str) -> str:
    return f"ojime_{service}"


def service_url(database_url: str, service: str, password: str) -> URL:
    """The owner's address with the service's own role in place of the owner."""
    return async_url(database_url).set(username=role_name(service), password=password)


def create_engine(url: URL, *, pool_size: int = 5, **options: Any) -> AsyncEngine:
    # No pre-ping: it costs a round trip on every checkout, about half of a
    # simple request. After a database restart the first query on a dead
    # connection fails, SQLAlchemy then drops the whole pool, and the next
    # requests connect afresh: only the requests in flight at the restart
    # see an error.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        **options,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@event.listens_for(Session, "after_begin")
def _bind_organization(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    # An empty value means "none": the policies then match no row.
    org_id = session.info.get(_ORG_KEY)
    user_id = session.info.get(_USER_KEY)
    connection.execute(
        text(
            "select set_config(:org_name, :org, true), "
            "set_config(:user_name, :user, true)"
        ),
        {
            "org_name": ORG_SETTING,
            "org": str(org_id) if org_id else "",
            "user_name": USER_SETTING,
            "user": str(user_id) if user_id else "",
        },
    )


def scope_to_organization(
    session: AsyncSession, org_id: UUID | None, user_id: UUID | None = None
) -> None:
    """Make every transaction that ``session`` begins from now on see ``org_id``
    (and, for the few policies that allow a user their own rows, ``user_id``).

    The session must not be inside a transaction yet: the scope is set when a
    transaction begins.
    """
    if session.in_transaction():
        raise RuntimeError("scope a session before its first query")
    session.info[_ORG_KEY] = org_id
    session.info[_USER_KEY] = user_id


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
    org_id: UUID | None = None,
    user_id: UUID | None = None,
) -> AsyncIterator[AsyncSession]:
    """A session for one request or job: committed on success, else rolled back."""
    async with sessions() as session:
        scope_to_organization(session, org_id, user_id)
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
