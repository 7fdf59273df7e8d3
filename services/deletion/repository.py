"""Every query of the deletion service. Queries only: the caller commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.deletion.models import CANCELLED, DeletionRequest, PurgeRun


async def database_now(session: AsyncSession) -> datetime:
    """The database's clock, which the work items' due times are read against."""
    now: datetime = (await session.execute(select(func.now()))).scalar_one()
    return now


async def add_request(
    session: AsyncSession, values: dict[str, object]
) -> uuid.UUID | None:
    """Insert a scheduled request; None if the organization already has an
    open one (a concurrent request included)."""
    statement = (
        insert(DeletionRequest)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["org_id"], index_where=text("state <> 'cancelled'")
        )
        .returning(DeletionRequest.id)
    )
    inserted: uuid.UUID | None = await session.scalar(statement)
    return inserted


async def open_request(
    session: AsyncSession, org_id: uuid.UUID
) -> DeletionRequest | None:
    """The organization's request that is not cancelled, locked until commit."""
    return await session.scalar(
        select(DeletionRequest)
        .where(DeletionRequest.org_id == org_id, DeletionRequest.state != CANCELLED)
        .with_for_update()
    )


async def request_for_update(
    session: AsyncSession, request_id: uuid.UUID
) -> DeletionRequest | None:
    return await session.scalar(
        select(DeletionRequest)
        .where(DeletionRequest.id == request_id)
        .with_for_update()
    )


async def latest_request(
    session: AsyncSession, org_id: uuid.UUID
) -> DeletionRequest | None:
    return await session.scalar(
        select(DeletionRequest)
        .where(DeletionRequest.org_id == org_id)
        .order_by(DeletionRequest.requested_at.desc(), DeletionRequest.id)
        .limit(1)
    )


async def add_run(session: AsyncSession, request: DeletionRequest) -> None:
    session.add(PurgeRun(id=request.id, org_id=request.org_id))
    await session.flush()


async def run_for_update(session: AsyncSession, run_id: uuid.UUID) -> PurgeRun | None:
    return await session.scalar(
        select(PurgeRun).where(PurgeRun.id == run_id).with_for_update()
    )
