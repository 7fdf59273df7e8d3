"""Custom properties: defined by the organization, validated on write, the
personal ones sealed and still found by exact match."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.runtime import Runtime
from tests.contacts.conftest import Caller, deliver, igsid, instagram_event

PROPERTIES = [
    {"key": "note", "label": "Note", "value_type": "text"},
    {"key": "email", "label": "Email", "value_type": "email"},
    {"key": "phone", "label": "Phone", "value_type": "phone"},
    {"key": "orders", "label": "Orders", "value_type": "number"},
    {"key": "wholesale", "label": "Wholesale", "value_type": "boolean"},
    {"key": "birthday", "label": "Birthday", "value_type": "date"},
    {
        "key": "size",
        "label": "Size",
        "value_type": "single_choice",
        "choices": ["S", "M", "L"],
    },
    {
        "key": "likes",
        "label": "Likes",
        "value_type": "multiple_choice",
        "choices": ["green", "black", "oolong"],
    },
]


async def _organization(
    runtime: Runtime, caller: Callable[..., Caller], contacts: int
) -> tuple[Caller, list[str]]:
    """An organization with every kind of property and ``contacts`` contacts."""
    who = caller(uuid.uuid4(), uuid.uuid4())
    for definition in PROPERTIES:
        answer = await who.request("POST", "/properties", json=definition)
        assert answer.status_code == 201, answer.text
    for _ in range(contacts):
        event = instagram_event(
            runtime.secrets.master_keys, who.org_id, contact=igsid(), text="hi"
        )
        await deliver(runtime, event)
    listed = (await who.get("/contacts", params={"sort": "created_at"})).json()
    return who, [item["id"] for item in listed["items"]]


async def _set(who: Caller, contact_id: str, key: str, value: Any) -> Any:
    return await who.request(
        "PUT", f"/contacts/{contact_id}/properties/{key}", json={"value": value}
    )


async def test_values_of_every_type_are_stored_and_read_back(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    who, [contact] = await _organization(runtime, caller, 1)
    values = {
        "note": "Prefers morning deliveries",
        "email": "Ana@Example.com",
        "phone": "+55 11 91234-5678",
        "orders": 12,
        "wholesale": True,
        "birthday": "1990-04-17",
        "size": "M",
        "likes": ["green", "oolong"],
    }

    for key, value in values.items():
        answer = await _set(who, contact, key, value)
        assert answer.status_code == 200, (key, answer.text)

    profile = (await who.get(f"/contacts/{contact}")).json()
    assert profile["properties"] == {
        **values,
        "email": "Ana@example.com",
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("note", ""),
        ("note", 5),
        ("email", "not an email"),
        ("phone", "call me"),
        ("orders", "12"),
        ("orders", True),
        ("wholesale", "yes"),
        ("birthday", "17/04/1990"),
        ("size", "XL"),
        ("likes", ["green", "green"]),
        ("likes", ["coffee"]),
        ("likes", "green"),
    ],
)
async def test_a_value_that_does_not_fit_its_type_answers_422(
    runtime: Runtime, caller: Callable[..., Caller], key: str, value: Any
) -> None:
    who, [contact] = await _organization(runtime, caller, 1)

    answer = await _set(who, contact, key, value)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "property_value_invalid"
    assert (await who.get(f"/contacts/{contact}")).json()["properties"] == {}


async def test_personal_values_are_sealed_and_found_by_exact_match(
    runtime: Runtime, caller: Callable[..., Caller], owner_engine: AsyncEngine
) -> None:
    who, contacts = await _organization(runtime, caller, 3)
    secret = f"ana.{uuid.uuid4().hex[:8]}@example.com"
    await _set(who, contacts[0], "email", secret)
    await _set(who, contacts[1], "email", "someone@example.com")
    await _set(who, contacts[2], "phone", "+1 (555) 010-2000")

    by_email = await who.get(
        "/contacts", params={"property": "email", "property_value": secret.upper()}
    )
    by_phone = await who.get(
        "/contacts", params={"property": "phone", "property_value": "+15550102000"}
    )

    assert [item["id"] for item in by_email.json()["items"]] == [contacts[0]]
    assert [item["id"] for item in by_phone.json()["items"]] == [contacts[2]]
    async with owner_engine.connect() as connection:
        stored = await connection.execute(
            text(
                "select value_sealed, value_plain from contacts.property_values "
                "where org_id = :org"
            ),
            {"org": who.org_id},
        )
        rows = list(stored)
    assert len(rows) == 3
    assert all(row.value_plain is None for row in rows)
    assert not any(secret.encode() in bytes(row.value_sealed) for row in rows)


async def test_plain_values_filter_by_equality_and_choice(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    who, contacts = await _organization(runtime, caller, 3)
    await _set(who, contacts[0], "orders", 3)
    await _set(who, contacts[1], "orders", 3.0)
    await _set(who, contacts[2], "orders", 4)
    await _set(who, contacts[0], "likes", ["green", "black"])
    await _set(who, contacts[2], "likes", ["black"])
    await _set(who, contacts[1], "wholesale", True)

    async def ids(key: str, value: str) -> set[str]:
        params = {"property": key, "property_value": value, "limit": 10}
        return {
            item["id"]
            for item in (await who.get("/contacts", params=params)).json()["items"]
        }

    assert await ids("orders", "3") == {contacts[0], contacts[1]}
    assert await ids("likes", "black") == {contacts[0], contacts[2]}
    assert await ids("wholesale", "true") == {contacts[1]}
    assert await ids("wholesale", "false") == set()


async def test_removing_a_value_and_deleting_a_property(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    who, [contact] = await _organization(runtime, caller, 1)
    await _set(who, contact, "note", "hello")
    await _set(who, contact, "size", "S")

    removed = await _set(who, contact, "note", None)
    size = next(p for p in (await who.get("/properties")).json() if p["key"] == "size")
    deleted = await who.request("DELETE", f"/properties/{size['id']}")

    assert removed.json() == {"size": "S"}
    assert deleted.status_code == 204
    assert (await who.get(f"/contacts/{contact}")).json()["properties"] == {}
    keys = [p["key"] for p in (await who.get("/properties")).json()]
    assert "size" not in keys and "note" in keys


async def test_definitions_are_checked_and_kept_per_organization(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    who, [contact] = await _organization(runtime, caller, 1)
    other = caller(uuid.uuid4(), uuid.uuid4())
    theirs = (await other.request("POST", "/properties", json=PROPERTIES[0])).json()

    again = await who.request("POST", "/properties", json=PROPERTIES[0])
    no_choices = await who.request(
        "POST",
        "/properties",
        json={"key": "tier", "label": "Tier", "value_type": "single_choice"},
    )
    bad_key = await who.request(
        "POST",
        "/properties",
        json={"key": "Bad Key", "label": "x", "value_type": "text"},
    )
    foreign = await who.request("DELETE", f"/properties/{theirs['id']}")
    unknown = await _set(who, contact, "nope", "x")
    half_filter = await who.get("/contacts", params={"property": "note"})

    assert again.status_code == 409
    assert no_choices.status_code == 422 and bad_key.status_code == 422
    assert foreign.status_code == 404 and unknown.status_code == 404
    assert half_filter.status_code == 400
    assert [p["key"] for p in (await other.get("/properties")).json()] == ["note"]
