"""An inbound Instagram item becomes a contact, a stored message and an event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.runtime import Runtime
from tests.contacts.conftest import Caller, deliver, igsid, instagram_event


async def _rows(engine: AsyncEngine, query: str, **values: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(text(query), values))


async def _only_contact(who: Caller) -> dict[str, Any]:
    listed = (await who.get("/contacts")).json()["items"]
    assert len(listed) == 1
    profile = (await who.get(f"/contacts/{listed[0]['id']}")).json()
    assert isinstance(profile, dict)
    return profile


async def test_a_message_makes_the_contact_and_files_the_message(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org = uuid.uuid4()
    contact = igsid()
    sent = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    event = instagram_event(
        runtime.secrets.master_keys, org, contact=contact, text="Do you ship?", at=sent
    )

    assert await deliver(runtime, event) == "handled"

    who = caller(org, uuid.uuid4())
    profile = await _only_contact(who)
    assert profile["instagram_id"] == contact
    assert profile["opted_out"] is False
    assert datetime.fromisoformat(profile["last_interaction_at"]) == sent
    messages = (await who.get(f"/contacts/{profile['id']}/messages")).json()
    [message] = messages["items"]
    assert message["text"] == "Do you ship?"
    assert (message["direction"], message["sender_kind"]) == ("in", "contact")
    assert datetime.fromisoformat(message["sent_at"]) == sent


async def test_the_ai_agent_hears_of_the_message_without_its_text(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org = uuid.uuid4()
    secret = f"my order number is {uuid.uuid4().hex}"
    event = instagram_event(
        runtime.secrets.master_keys, org, contact=igsid(), text=secret
    )

    await deliver(runtime, event)

    rows = await _rows(
        owner_engine,
        "select destination, payload from contacts.outbox "
        "where org_id = :org and event_type = 'conversation.message_received'",
        org=org,
    )
    assert [row.destination for row in rows] == ["ai_agent"]
    payload = rows[0].payload
    assert payload["direction"] == "in" and payload["has_text"] is True
    assert secret not in str(payload)


async def test_message_text_is_stored_sealed_not_in_plaintext(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org = uuid.uuid4()
    secret = f"call me on 555-{uuid.uuid4().int % 10000:04d}"
    event = instagram_event(
        runtime.secrets.master_keys, org, contact=igsid(), text=secret
    )

    await deliver(runtime, event)

    [row] = await _rows(
        owner_engine,
        "select id, text_sealed from contacts.messages where org_id = :org",
        org=org,
    )
    assert row.text_sealed and secret.encode() not in bytes(row.text_sealed)
    dump = await _rows(
        owner_engine,
        "select count(*) from contacts.messages m "
        "where position(convert_to(:secret, 'UTF8') in m.text_sealed) > 0",
        secret=secret,
    )
    assert dump[0][0] == 0


async def test_a_redelivered_event_changes_nothing(
    runtime: Runtime, caller: Callable[..., Caller], owner_engine: AsyncEngine
) -> None:
    org = uuid.uuid4()
    event = instagram_event(
        runtime.secrets.master_keys, org, contact=igsid(), text="hi"
    )

    assert await deliver(runtime, event) == "handled"
    assert await deliver(runtime, event) == "duplicate"

    counts = await _rows(
        owner_engine,
        "select (select count(*) from contacts.messages where org_id = :org), "
        "(select count(*) from contacts.outbox where org_id = :org)",
        org=org,
    )
    assert tuple(counts[0]) == (1, 1)


async def test_the_same_message_in_two_events_is_stored_once(
    runtime: Runtime, caller: Callable[..., Caller], owner_engine: AsyncEngine
) -> None:
    org = uuid.uuid4()
    keys = runtime.secrets.master_keys
    contact, mid = igsid(), f"mid.{uuid.uuid4().hex}"
    first = instagram_event(keys, org, contact=contact, text="hi", message_id=mid)
    again = instagram_event(keys, org, contact=contact, text="hi", message_id=mid)

    assert await deliver(runtime, first) == "handled"
    assert await deliver(runtime, again) == "handled"

    counts = await _rows(
        owner_engine,
        "select (select count(*) from contacts.messages where org_id = :org), "
        "(select count(*) from contacts.contacts where org_id = :org), "
        "(select count(*) from contacts.outbox where org_id = :org)",
        org=org,
    )
    assert tuple(counts[0]) == (1, 1, 1)


async def test_stop_opts_the_contact_out_and_start_back_in(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org = uuid.uuid4()
    keys = runtime.secrets.master_keys
    contact = igsid()
    start = datetime.now(UTC) - timedelta(minutes=5)
    who = caller(org, uuid.uuid4())

    await deliver(runtime, instagram_event(keys, org, contact=contact, text="STOP"))
    profile = await _only_contact(who)
    assert profile["opted_out"] is True
    assert [(c["opted_out"], c["method"]) for c in profile["opt_out_history"]] == [
        (True, "keyword")
    ]
    assert datetime.fromisoformat(profile["opted_out_at"]) > start

    await deliver(runtime, instagram_event(keys, org, contact=contact, text="START"))
    profile = await _only_contact(who)
    assert profile["opted_out"] is False
    history = [(c["opted_out"], c["method"]) for c in profile["opt_out_history"]]
    assert history == [(False, "keyword"), (True, "keyword")]


async def test_an_ordinary_message_leaves_the_opt_out_state_alone(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org = uuid.uuid4()
    keys = runtime.secrets.master_keys
    text_ = "I can't stop smiling, thank you!"
    await deliver(runtime, instagram_event(keys, org, contact=igsid(), text=text_))

    profile = await _only_contact(caller(org, uuid.uuid4()))
    assert profile["opted_out"] is False
    assert profile["opt_out_history"] == []


async def test_an_echo_is_filed_as_a_reply_a_person_typed(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org = uuid.uuid4()
    keys = runtime.secrets.master_keys
    contact = igsid()
    asked = datetime.now(UTC) - timedelta(minutes=2)
    await deliver(
        runtime, instagram_event(keys, org, contact=contact, text="hi", at=asked)
    )
    await deliver(
        runtime,
        instagram_event(
            keys, org, kind="echo", contact=contact, text="STOP by anytime"
        ),
    )

    who = caller(org, uuid.uuid4())
    profile = await _only_contact(who)
    assert profile["opted_out"] is False
    items = (await who.get(f"/contacts/{profile['id']}/messages")).json()["items"]
    assert [(m["direction"], m["sender_kind"], m["text"]) for m in items] == [
        ("out", "person", "STOP by anytime"),
        ("in", "contact", "hi"),
    ]


async def test_an_unsent_message_loses_its_text_and_an_edit_replaces_it(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org = uuid.uuid4()
    keys = runtime.secrets.master_keys
    contact = igsid()
    kept, taken = f"mid.{uuid.uuid4().hex}", f"mid.{uuid.uuid4().hex}"
    for mid, words in ((kept, "helo"), (taken, "oops, wrong chat")):
        await deliver(
            runtime,
            instagram_event(keys, org, contact=contact, text=words, message_id=mid),
        )

    await deliver(
        runtime,
        instagram_event(keys, org, kind="unsend", contact=contact, message_id=taken),
    )
    await deliver(
        runtime,
        instagram_event(
            keys, org, kind="edit", contact=contact, text="hello", message_id=kept
        ),
    )

    who = caller(org, uuid.uuid4())
    profile = await _only_contact(who)
    items = (await who.get(f"/contacts/{profile['id']}/messages")).json()["items"]
    by_text = {m["text"]: m for m in items}
    assert set(by_text) == {"hello", None}
    assert by_text[None]["unsent_at"] is not None
    assert by_text["hello"]["edited_at"] is not None


async def test_reads_and_reactions_touch_the_contact_but_store_no_message(
    runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org = uuid.uuid4()
    keys = runtime.secrets.master_keys
    contact = igsid()
    for kind in ("read", "reaction", "unknown"):
        event = instagram_event(keys, org, kind=kind, contact=contact)
        assert await deliver(runtime, event) == "handled"

    counts = await _rows(
        owner_engine,
        "select (select count(*) from contacts.contacts where org_id = :org), "
        "(select count(*) from contacts.messages where org_id = :org)",
        org=org,
    )
    assert tuple(counts[0]) == (1, 0)


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "message", "sealed": "junk"},
        {"kind": "message", "sender_id": ["1"], "timestamp": "yesterday"},
        {"kind": "message", "sender_id": "1", "message_id": "m", "sealed": {"text": 7}},
    ],
    ids=["no contact", "wrong types", "unreadable text"],
)
async def test_an_odd_payload_is_handled_without_failing(
    runtime: Runtime, owner_engine: AsyncEngine, payload: dict[str, Any]
) -> None:
    org = uuid.uuid4()
    event = instagram_event(runtime.secrets.master_keys, org, contact="", text="x")
    event = event.model_copy(update={"payload": payload})

    assert await deliver(runtime, event) == "handled"

    rows = await _rows(
        owner_engine,
        "select count(*) from contacts.messages where org_id = :org "
        "and text_sealed is not null",
        org=org,
    )
    assert rows[0][0] == 0
