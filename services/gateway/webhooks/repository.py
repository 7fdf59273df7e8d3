"""Queries of webhook deliveries and the items already turned into events.

Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from uuid import UUID

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import InstagramDelivery, InstagramItem, Organization


async def organizations_by_account(
    session: AsyncSession, account_ids: Collection[str]
) -> dict[str, UUID]:
    """The organization that connected each of these Instagram accounts."""
    rows = await session.execute(
        select(Organization.instagram_account_id, Organization.id).where(
            Organization.instagram_account_id.in_(sorted(account_ids))
        )
    )
    return {account_id: org_id for account_id, org_id in rows.all()}


async def claim_items(
    session: AsyncSession, org_id: UUID, claims: Sequence[tuple[str, str, UUID]]
) -> set[UUID]:
    """Record each (kind, key, event id) not recorded before; their event ids.

    A concurrent claim of the same item waits here until the first one
    commits or rolls back, then knows which happened. Claims are taken in
    key order, so two deliveries sharing items cannot deadlock.
    """
    rows = [
        {"org_id": org_id, "kind": kind, "item_key": key, "event_id": event_id}
        for kind, key, event_id in sorted(claims)
    ]
    claimed = await session.scalars(
        upsert(InstagramItem)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(InstagramItem.event_id)
    )
    return set(claimed)


async def add_delivery(
    session: AsyncSession, delivery_id: UUID, org_id: UUID, sealed_body: bytes
) -> None:
    await session.execute(
        insert(InstagramDelivery).values(
            id=delivery_id, org_id=org_id, body=sealed_body
        )
    )


async def delete_delivery(session: AsyncSession, delivery_id: UUID) -> bool:
    deleted = await session.execute(
        delete(InstagramDelivery)
        .where(InstagramDelivery.id == delivery_id)
        .returning(InstagramDelivery.id)
    )
    return deleted.first() is not None


async def forget_items(session: AsyncSession, org_id: UUID, age: timedelta) -> int:
    """Forget the organization's items recorded more than ``age`` ago."""
    result = await session.execute(
        delete(InstagramItem).where(
            InstagramItem.org_id == org_id,
            InstagramItem.received_at < func.now() - age,
        )
    )
    return int(getattr(result, "rowcount", 0))
