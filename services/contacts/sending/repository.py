"""The send path's queries. Queries only: the caller commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts.models import Conversation, Message, Send


async def send_for_update(
    session: AsyncSession, org_id: uuid.UUID, send_id: uuid.UUID
) -> Send | None:
    """The send with this id, locked until the transaction ends."""
    return await session.scalar(
        select(Send).where(Send.org_id == org_id, Send.id == send_id).with_for_update()
    )


async def insert_send(session: AsyncSession, send: Send) -> bool:
    """Record a new send; False if its id is taken by a send of any
    organization or by a message of this one."""
    taken = await session.scalar(select(Message.id).where(Message.id == send.id))
    if taken is not None:
        return False

    values = {column.key: getattr(send, column.key) for column in Send.__table__.c}
    inserted = await session.scalar(
        insert(Send).values(values).on_conflict_do_nothing().returning(Send.id)
    )
    return inserted is not None


async def last_inbound_at(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> datetime | None:
    """When the contact last wrote to the organization, if ever."""
    return await session.scalar(
        select(func.max(Message.sent_at)).where(
            Message.org_id == org_id,
            Message.contact_id == contact_id,
            Message.direction == "in",
        )
    )


async def conversation_of(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> Conversation | None:
    return await session.scalar(
        select(Conversation).where(
            Conversation.org_id == org_id, Conversation.contact_id == contact_id
        )
    )


async def take_over(
    session: AsyncSession,
    org_id: uuid.UUID,
    contact_id: uuid.UUID,
    by_user_id: uuid.UUID | None,
    at: datetime,
) -> None:
    """Mark the contact's conversation as a person's; the first mark stays."""
    table = Conversation.__table__
    await session.execute(
        insert(Conversation)
        .values(
            id=uuid.uuid4(),
            org_id=org_id,
            contact_id=contact_id,
            taken_over_at=at,
            taken_over_by_user_id=by_user_id,
        )
        .on_conflict_do_update(
            index_elements=[table.c.contact_id],
            set_={
                "taken_over_at": func.coalesce(table.c.taken_over_at, at),
                "taken_over_by_user_id": case(
                    (table.c.taken_over_at.is_(None), by_user_id),
                    else_=table.c.taken_over_by_user_id,
                ),
            },
        )
    )
