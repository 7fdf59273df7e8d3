"""Each organization's data key: made once, sealing its data, destroyed for good.

The keys live in the contacts schema and are reached through the contacts
service's own runtime, as its serving role, with the development master keys
the service itself loads.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.contacts import SPEC as CONTACTS
from shared.crypto.blind_index import EMAIL, PHONE
from shared.crypto.data_keys import (
    DataKey,
    OrganizationKeyMissing,
    destroy_data_key,
    get_or_create_data_key,
    load_data_key,
)
from shared.crypto.errors import CiphertextRejected
from shared.crypto.keyring import KeyRing
from shared.db import unit_of_work
from shared.runtime import Runtime, open_runtime
from tests.conftest import Stores

SCHEMA = CONTACTS.schema
CELL = {"table": "contacts.contacts", "column": "email"}


@pytest.fixture(scope="module")
async def runtime(stores: Stores) -> AsyncIterator[Runtime]:
    runtime = open_runtime(CONTACTS, CONTACTS.settings())
    yield runtime
    await runtime.close()


@pytest.fixture
def master_keys(runtime: Runtime) -> KeyRing:
    return runtime.secrets.master_keys


async def _key(runtime: Runtime, org_id: uuid.UUID) -> DataKey:
    async with unit_of_work(runtime.sessions, org_id) as session:
        return await get_or_create_data_key(
            session, SCHEMA, org_id, runtime.secrets.master_keys
        )


async def _read(
    runtime: Runtime, org_id: uuid.UUID, sealed: bytes, row: uuid.UUID
) -> bytes:
    async with unit_of_work(runtime.sessions, org_id) as session:
        key = await load_data_key(session, SCHEMA, org_id, runtime.secrets.master_keys)
        return key.open(sealed, row_id=row, **CELL)


async def _destroy(runtime: Runtime, org_id: uuid.UUID) -> bool:
    async with unit_of_work(runtime.sessions, org_id) as session:
        return await destroy_data_key(session, SCHEMA, org_id)


async def test_a_data_key_opens_what_it_sealed_in_a_later_request(
    runtime: Runtime,
) -> None:
    org, row = uuid.uuid4(), uuid.uuid4()
    sealed = (await _key(runtime, org)).seal(b"ann@example.com", row_id=row, **CELL)

    assert await _read(runtime, org, sealed, row) == b"ann@example.com"


async def test_the_data_key_is_stored_wrapped_under_the_newest_master_key(
    runtime: Runtime, owner_engine: AsyncEngine, master_keys: KeyRing
) -> None:
    org = uuid.uuid4()
    await _key(runtime, org)

    async with owner_engine.connect() as connection:
        stored = (
            await connection.execute(
                text(
                    "select master_key_version, length(wrapped_key) "
                    "from contacts.org_keys where org_id = :org"
                ),
                {"org": org},
            )
        ).one()
    assert tuple(stored) == (master_keys.current_version, 5 + 12 + 32 + 16)


async def test_another_organization_key_does_not_open_the_data(
    runtime: Runtime,
) -> None:
    org, other, row = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    sealed = (await _key(runtime, org)).seal(b"ann@example.com", row_id=row, **CELL)
    await _key(runtime, other)

    with pytest.raises(CiphertextRejected):
        await _read(runtime, other, sealed, row)


async def test_racing_first_uses_all_end_with_the_one_stored_key(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org, row = uuid.uuid4(), uuid.uuid4()

    keys = await asyncio.gather(*(_key(runtime, org) for _ in range(8)))

    sealed = [key.seal(b"ann@example.com", row_id=row, **CELL) for key in keys]
    for value in sealed:
        assert await _read(runtime, org, value, row) == b"ann@example.com"
    async with owner_engine.connect() as connection:
        count = await connection.scalar(
            text("select count(*) from contacts.org_keys where org_id = :org"),
            {"org": org},
        )
    assert count == 1


async def test_a_destroyed_key_leaves_its_organization_unreadable_and_others_not(
    runtime: Runtime,
) -> None:
    gone, kept, row = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    gone_value = (await _key(runtime, gone)).seal(
        b"ann@example.com", row_id=row, **CELL
    )
    kept_value = (await _key(runtime, kept)).seal(
        b"bob@example.com", row_id=row, **CELL
    )

    assert await _destroy(runtime, gone) is True

    with pytest.raises(OrganizationKeyMissing):
        await _read(runtime, gone, gone_value, row)
    assert await _read(runtime, kept, kept_value, row) == b"bob@example.com"


async def test_a_key_made_after_destruction_does_not_open_the_old_data(
    runtime: Runtime,
) -> None:
    org, row = uuid.uuid4(), uuid.uuid4()
    old_value = (await _key(runtime, org)).seal(b"ann@example.com", row_id=row, **CELL)
    await _destroy(runtime, org)

    await _key(runtime, org)

    with pytest.raises(CiphertextRejected):
        await _read(runtime, org, old_value, row)


async def test_destroying_forgets_a_key_the_same_session_already_read(
    runtime: Runtime, master_keys: KeyRing
) -> None:
    org = uuid.uuid4()
    await _key(runtime, org)

    async with unit_of_work(runtime.sessions, org) as session:
        await load_data_key(session, SCHEMA, org, master_keys)
        await destroy_data_key(session, SCHEMA, org)

        with pytest.raises(OrganizationKeyMissing):
            await load_data_key(session, SCHEMA, org, master_keys)


async def test_a_session_that_read_a_key_sees_its_destruction_by_another(
    runtime: Runtime, master_keys: KeyRing
) -> None:
    org = uuid.uuid4()
    await _key(runtime, org)

    async with runtime.sessions() as reader:
        await load_data_key(reader, SCHEMA, org, master_keys)
        await reader.commit()
        await _destroy(runtime, org)

        with pytest.raises(OrganizationKeyMissing):
            await load_data_key(reader, SCHEMA, org, master_keys)


async def test_a_rolled_back_first_key_is_not_used_afterwards(
    runtime: Runtime, master_keys: KeyRing
) -> None:
    org, row = uuid.uuid4(), uuid.uuid4()

    async with runtime.sessions() as session:
        await get_or_create_data_key(session, SCHEMA, org, master_keys)
        await session.rollback()
        key = await get_or_create_data_key(session, SCHEMA, org, master_keys)
        sealed = key.seal(b"ann@example.com", row_id=row, **CELL)
        await session.commit()

    assert await _read(runtime, org, sealed, row) == b"ann@example.com"


async def test_destroying_a_key_that_is_not_there_reports_it(runtime: Runtime) -> None:
    assert await _destroy(runtime, uuid.uuid4()) is False


async def test_a_wrapped_key_copied_to_another_organization_or_schema_does_not_open(
    runtime: Runtime, owner_engine: AsyncEngine, master_keys: KeyRing
) -> None:
    org, other = uuid.uuid4(), uuid.uuid4()
    await _key(runtime, org)
    async with owner_engine.begin() as connection:
        for target in ("contacts", "ai_agent"):
            await connection.execute(
                text(
                    f"insert into {target}.org_keys "
                    "(org_id, master_key_version, wrapped_key) "
                    "select :target_org, master_key_version, wrapped_key "
                    "from contacts.org_keys where org_id = :org"
                ),
                {"org": org, "target_org": other if target == "contacts" else org},
            )

    owner_sessions = async_sessionmaker(owner_engine)
    async with owner_sessions() as session:
        with pytest.raises(CiphertextRejected):
            await load_data_key(session, "contacts", other, master_keys)
        with pytest.raises(CiphertextRejected):
            await load_data_key(session, "ai_agent", org, master_keys)


async def test_a_blind_index_matches_the_same_email_whatever_its_case_or_spacing(
    runtime: Runtime,
) -> None:
    key = await _key(runtime, uuid.uuid4())

    index = key.blind_index(EMAIL, "ann@example.com")

    assert key.blind_index(EMAIL, "  Ann@Example.COM\n") == index
    assert key.blind_index(EMAIL, "\uff21\uff2e\uff2e@example.com") == index
    assert key.blind_index(EMAIL, "ann+shop@example.com") != index
    assert key.blind_index(EMAIL, "an.n@example.com") != index
    assert len(index) == 32


async def test_a_blind_index_matches_a_phone_number_whatever_its_punctuation(
    runtime: Runtime,
) -> None:
    key = await _key(runtime, uuid.uuid4())

    index = key.blind_index(PHONE, "+15550102000")

    assert key.blind_index(PHONE, " +1 (555) 010-2000 ") == index
    assert key.blind_index(PHONE, "15550102000") != index
    assert key.blind_index(EMAIL, "+15550102000") != index


async def test_organizations_get_different_blind_indexes_for_the_same_email(
    runtime: Runtime,
) -> None:
    first = await _key(runtime, uuid.uuid4())
    second = await _key(runtime, uuid.uuid4())

    assert first.blind_index(EMAIL, "ann@example.com") != second.blind_index(
        EMAIL, "ann@example.com"
    )


async def test_a_blind_index_finds_the_row_until_the_key_is_destroyed(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org = uuid.uuid4()
    key = await _key(runtime, org)
    async with owner_engine.connect() as connection:
        await connection.execute(
            text("create temporary table people (id int, email_index bytea)")
        )
        for row, email in enumerate(["ann@example.com", "bob@example.com"]):
            await connection.execute(
                text("insert into people values (:id, :index)"),
                {"id": row, "index": key.blind_index(EMAIL, email)},
            )
        lookup = text("select id from people where email_index = :index")

        found = await connection.scalar(
            lookup, {"index": key.blind_index(EMAIL, " BOB@example.com")}
        )
        await _destroy(runtime, org)
        replacement = await _key(runtime, org)
        found_after = await connection.scalar(
            lookup, {"index": replacement.blind_index(EMAIL, "bob@example.com")}
        )

    assert (found, found_after) == (1, None)


def test_a_data_key_shows_no_key_when_printed() -> None:
    key = DataKey(uuid.uuid4(), b"k" * 32)

    assert "kkkk" not in repr(key) and "6b6b" not in repr(key)
