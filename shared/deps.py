"""FastAPI dependencies every service uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import unit_of_work
from shared.errors import NotAuthenticated, NotFound
from shared.identity import Identity
from shared.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_identity(request: Request) -> Identity:
    identity: Identity | None = getattr(request.state, "identity", None)
    if identity is None:
        raise NotAuthenticated()
    return identity


CurrentIdentity = Annotated[Identity, Depends(get_identity)]


async def org_session(
    org_id: UUID, request: Request, identity: CurrentIdentity
) -> AsyncIterator[AsyncSession]:
    """A session scoped to the organization in the path.

    Another organization's address answers 404, as if it did not exist. The
    session commits before the response is sent, so a 2xx means it is stored.
    """
    if identity.org_id != org_id:
        raise NotFound()
    async with unit_of_work(get_runtime(request).sessions, org_id) as session:
        yield session


# scope="function" closes the session, and commits, before the response leaves.
OrgSession = Annotated[AsyncSession, Depends(org_session, scope="function")]
