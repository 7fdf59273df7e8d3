"""Deep pages of a large contact list, and of a long conversation, are read
along an index, not by scanning and sorting rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.contacts.repository import (
    ContactFilters,
    Keyset,
    contacts_page_query,
    messages_page_query,
)
from shared.db import unit_of_work
from shared.runtime import Runtime

PER_ORGANIZATION = 20_000
DEEP = Keyset(value=datetime(2000, 1, 1, tzinfo=UTC), row_id=uuid.uuid4())


@pytest.fixture(scope="module")
async def crowded(owner_engine: AsyncEngine) -> AsyncIterator[uuid.UUID]:
    """An organization of many contacts, beside another one as large."""
    orgs = [uuid.uuid4(), uuid.uuid4()]
    async with owner_engine.begin() as connection:
        for org in orgs:
            await connection.execute(
                text(
                    "insert into contacts.contacts (id, org_id, instagram_id, "
                    "last_interaction_at, created_at) "
                    "select gen_random_uuid(), :org, n::text, "
                    "now() - n * interval '1 minute', now() - n * interval '1 hour' "
                    "from generate_series(1, :count) n"
                ),
                {"org": org, "count": PER_ORGANIZATION},
            )
        await connection.execute(text("analyze contacts.contacts"))
    yield orgs[0]
    async with owner_engine.begin() as connection:
        await connection.execute(
            text("delete from contacts.contacts where org_id = any(:orgs)"),
            {"orgs": orgs},
        )


async def _explain(runtime: Runtime, org: uuid.UUID, query: Select[Any]) -> str:
    sql = query.compile(
        dialect=runtime.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    async with unit_of_work(runtime.sessions, org) as session:
        rows = await session.execute(text(f"explain {sql}"))
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("-last_interaction_at", "contacts_by_last_interaction"),
        ("last_interaction_at", "contacts_by_last_interaction"),
        ("-created_at", "contacts_by_created"),
        ("created_at", "contacts_by_created"),
    ],
)
async def test_a_deep_page_walks_the_index_without_sorting(
    crowded: uuid.UUID, runtime: Runtime, sort: str, index: str
) -> None:
    query = contacts_page_query(crowded, ContactFilters(), sort, DEEP, 51)

    plan = await _explain(runtime, crowded, query)

    assert f"Index Scan Backward using {index}" in plan or (
        f"Index Scan using {index}" in plan
    ), plan
    assert "Sort" not in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.fixture(scope="module")
async def chatty(
    owner_engine: AsyncEngine,
) -> AsyncIterator[tuple[uuid.UUID, uuid.UUID]]:
    """A contact with a long conversation: its organization and its id."""
    org, contact, conversation = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with owner_engine.begin() as connection:
        await connection.execute(
            text(
                "insert into contacts.contacts (id, org_id, instagram_id) "
                "values (:contact, :org, '1')"
            ),
            {"contact": contact, "org": org},
        )
        await connection.execute(
            text(
                "insert into contacts.conversations (id, org_id, contact_id) "
                "values (:conversation, :org, :contact)"
            ),
            {"conversation": conversation, "org": org, "contact": contact},
        )
        await connection.execute(
            text(
                "insert into contacts.messages (id, org_id, conversation_id, "
                "contact_id, instagram_message_id, direction, sender_kind, kind, "
                "sent_at) select gen_random_uuid(), :org, :conversation, :contact, "
                "n::text, 'in', 'contact', 'message', now() - n * interval '1 s' "
                "from generate_series(1, :count) n"
            ),
            {
                "org": org,
                "conversation": conversation,
                "contact": contact,
                "count": PER_ORGANIZATION,
            },
        )
        await connection.execute(text("analyze contacts.messages"))
    yield org, contact
    async with owner_engine.begin() as connection:
        await connection.execute(
            text("delete from contacts.contacts where id = :contact"),
            {"contact": contact},
        )


async def test_a_deep_page_of_a_conversation_walks_the_index(
    chatty: tuple[uuid.UUID, uuid.UUID], runtime: Runtime
) -> None:
    org, contact = chatty
    query = messages_page_query(org, contact, DEEP, 51)

    plan = await _explain(runtime, org, query)

    assert "Index Scan Backward using messages_by_contact" in plan, plan
    assert "Sort" not in plan, plan
