"""The contacts API: lists, profiles, changes by hand and tags, one
organization at a time, over real HTTP against the real service."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.runtime import Runtime
from tests.contacts.conftest import Caller, deliver, igsid, instagram_event

START = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
USERNAMES = ["tea_lover", "matcha.fan", "Green_Tea_Club", "coffee_person", "TEAPOT"]


async def _contacts(runtime: Runtime, org: uuid.UUID, count: int) -> list[str]:
    """``count`` contacts of ``org``, an hour apart; their Instagram ids."""
    ids = [igsid() for _ in range(count)]
    for hour, contact in enumerate(ids):
        at = START + timedelta(hours=hour)
        event = instagram_event(
            runtime.secrets.master_keys, org, contact=contact, text="hi", at=at
        )
        await deliver(runtime, event)
    return ids


async def _all_pages(who: Caller, **query: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        answer = await who.get("/contacts", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def _name(runtime: Runtime, org: uuid.UUID, who: Caller) -> list[str]:
    """Give the organization's first contacts the test usernames, by hand."""
    listed = (await who.get("/contacts", params={"sort": "created_at"})).json()
    ids = [item["id"] for item in listed["items"]]
    for contact_id, username in zip(ids, USERNAMES, strict=False):
        answer = await who.request(
            "PATCH", f"/contacts/{contact_id}", json={"name": username}
        )
        assert answer.status_code == 200, answer.text
    return ids


@pytest.fixture
async def two_orgs(
    runtime: Runtime, caller: Callable[..., Caller]
) -> tuple[Caller, Caller]:
    first, second = uuid.uuid4(), uuid.uuid4()
    await _contacts(runtime, first, 23)
    await _contacts(runtime, second, 7)
    return caller(first, uuid.uuid4()), caller(second, uuid.uuid4())


async def test_pages_walk_every_contact_once_and_no_other_organizations(
    two_orgs: tuple[Caller, Caller],
) -> None:
    first, second = two_orgs

    newest_first = await _all_pages(first, limit=5)
    oldest_first = await _all_pages(first, limit=4, sort="last_interaction_at")
    by_creation = await _all_pages(first, limit=10, sort="-created_at")

    assert len(newest_first) == 23
    assert len({item["id"] for item in newest_first}) == 23
    times = [item["last_interaction_at"] for item in newest_first]
    assert times == sorted(times, reverse=True)
    assert [item["id"] for item in oldest_first] == [
        item["id"] for item in reversed(newest_first)
    ]
    assert {item["id"] for item in by_creation} == {item["id"] for item in newest_first}
    others = {item["id"] for item in await _all_pages(second, limit=3)}
    assert len(others) == 7
    assert others.isdisjoint(item["id"] for item in newest_first)


async def test_search_matches_part_of_a_name_in_any_case(
    runtime: Runtime, two_orgs: tuple[Caller, Caller]
) -> None:
    first, second = two_orgs
    await _name(runtime, first.org_id, first)

    found = await _all_pages(first, search="tea")
    none_elsewhere = await _all_pages(second, search="tea")
    literal = await _all_pages(first, search="%")

    assert sorted(item["name"] for item in found) == [
        "Green_Tea_Club",
        "TEAPOT",
        "tea_lover",
    ]
    assert none_elsewhere == []
    assert literal == []


async def test_filters_by_opt_out_tag_and_interaction_time(
    two_orgs: tuple[Caller, Caller],
) -> None:
    first, second = two_orgs
    everyone = await _all_pages(first, sort="last_interaction_at")
    opted, tagged = everyone[0]["id"], everyone[1]["id"]
    await first.request("PATCH", f"/contacts/{opted}", json={"opted_out": True})
    tag = (await first.request("POST", "/tags", json={"name": "vip"})).json()
    await first.request("PUT", f"/contacts/{tagged}/tags/{tag['id']}")

    out = await _all_pages(first, opted_out="true")
    still_in = await _all_pages(first, opted_out="false")
    with_tag = await _all_pages(first, tag=tag["id"])
    window = await _all_pages(
        first,
        interacted_after=(START + timedelta(hours=2)).isoformat(),
        interacted_before=(START + timedelta(hours=5)).isoformat(),
    )

    assert [item["id"] for item in out] == [opted]
    assert len(still_in) == 22
    assert [item["id"] for item in with_tag] == [tagged]
    assert [item["id"] for item in window] == [e["id"] for e in everyone[2:5]][::-1]
    assert await _all_pages(second, tag=tag["id"]) == []
    assert await _all_pages(second, opted_out="true") == []


async def test_another_organizations_ids_answer_404(
    runtime: Runtime, two_orgs: tuple[Caller, Caller]
) -> None:
    first, second = two_orgs
    theirs = (await _all_pages(second))[0]["id"]
    their_tag = (await second.request("POST", "/tags", json={"name": "x"})).json()
    mine = (await _all_pages(first))[0]["id"]

    answers = [
        await first.get(f"/contacts/{theirs}"),
        await first.get(f"/contacts/{theirs}/messages"),
        await first.request("PATCH", f"/contacts/{theirs}", json={"opted_out": True}),
        await first.request("PUT", f"/contacts/{theirs}/tags/{their_tag['id']}"),
        await first.request("PUT", f"/contacts/{mine}/tags/{their_tag['id']}"),
        await first.request("DELETE", f"/tags/{their_tag['id']}"),
        await first.get(f"/contacts/{uuid.uuid4()}"),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert answers[0].json()["error"]["code"] == "contact_not_found"
    profile = (await second.get(f"/contacts/{theirs}")).json()
    assert profile["opted_out"] is False and profile["tags"] == []


async def test_an_identity_for_one_organization_reads_no_other(
    two_orgs: tuple[Caller, Caller],
) -> None:
    first, second = two_orgs
    sent = await first.get("/contacts")
    identity = sent.request.headers["x-ojime-identity"]
    elsewhere = str(sent.request.url).replace(str(first.org_id), str(second.org_id))

    answer = await first.http.get(elsewhere, headers={"x-ojime-identity": identity})

    assert f"/api/orgs/{second.org_id}/contacts" in elsewhere
    assert answer.status_code == 404


async def test_opting_out_by_hand_is_recorded_with_who_did_it(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org, person = uuid.uuid4(), uuid.uuid4()
    await _contacts(runtime, org, 1)
    member, api_token = caller(org, person), caller(org, None)
    contact_id = (await _all_pages(member))[0]["id"]

    await member.request("PATCH", f"/contacts/{contact_id}", json={"opted_out": True})
    again = await member.request(
        "PATCH", f"/contacts/{contact_id}", json={"opted_out": True}
    )
    back = await api_token.request(
        "PATCH", f"/contacts/{contact_id}", json={"opted_out": False}
    )

    assert again.status_code == 200 and again.json()["opted_out"] is True
    history = back.json()["opt_out_history"]
    assert [(c["opted_out"], c["method"], c["by_user_id"]) for c in history] == [
        (False, "api", None),
        (True, "manual", str(person)),
    ]


async def test_a_name_of_our_own_and_back_to_instagrams(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org = uuid.uuid4()
    await _contacts(runtime, org, 1)
    who = caller(org, uuid.uuid4())
    contact_id = (await _all_pages(who))[0]["id"]

    named = await who.request("PATCH", f"/contacts/{contact_id}", json={"name": "Ana"})
    cleared = await who.request("PATCH", f"/contacts/{contact_id}", json={"name": None})
    unknown = await who.request("PATCH", f"/contacts/{contact_id}", json={"nick": "A"})

    assert named.json()["name"] == "Ana"
    assert cleared.json()["name"] is None
    assert unknown.status_code == 422


async def test_tags_are_made_listed_put_on_taken_off_and_deleted(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org = uuid.uuid4()
    await _contacts(runtime, org, 1)
    who = caller(org, uuid.uuid4())
    contact_id = (await _all_pages(who))[0]["id"]

    vip = (await who.request("POST", "/tags", json={"name": " vip "})).json()
    lead = (await who.request("POST", "/tags", json={"name": "lead"})).json()
    taken = await who.request("POST", "/tags", json={"name": "vip"})
    blank = await who.request("POST", "/tags", json={"name": "   "})
    for tag in (vip, lead, vip):
        await who.request("PUT", f"/contacts/{contact_id}/tags/{tag['id']}")
    on_contact = (await who.get(f"/contacts/{contact_id}")).json()["tags"]
    after_removal = await who.request(
        "DELETE", f"/contacts/{contact_id}/tags/{lead['id']}"
    )
    deleted = await who.request("DELETE", f"/tags/{vip['id']}")

    assert vip["name"] == "vip"
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "tag_name_taken")
    assert blank.status_code == 422
    assert [tag["name"] for tag in on_contact] == ["lead", "vip"]
    assert [tag["name"] for tag in after_removal.json()] == ["vip"]
    assert deleted.status_code == 204
    assert (await who.get(f"/contacts/{contact_id}")).json()["tags"] == []
    assert [tag["name"] for tag in (await who.get("/tags")).json()] == ["lead"]


async def test_conversation_pages_go_from_newest_to_oldest(
    runtime: Runtime, caller: Callable[..., Caller]
) -> None:
    org = uuid.uuid4()
    contact = igsid()
    for minute in range(7):
        event = instagram_event(
            runtime.secrets.master_keys,
            org,
            contact=contact,
            text=f"message {minute}",
            at=START + timedelta(minutes=minute),
        )
        await deliver(runtime, event)
    who = caller(org, uuid.uuid4())
    contact_id = (await _all_pages(who))[0]["id"]

    texts: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await who.get(f"/contacts/{contact_id}/messages", params=params)).json()
        texts += [message["text"] for message in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert texts == [f"message {minute}" for minute in reversed(range(7))]


@pytest.mark.parametrize(
    "cursor", ["not-a-cursor", "W10", "WyJtZXNzYWdlcyIsIjIwMjYiLCJ4Il0"]
)
async def test_a_cursor_that_is_not_ours_answers_400(
    runtime: Runtime, caller: Callable[..., Caller], cursor: str
) -> None:
    org = uuid.uuid4()
    who = caller(org, uuid.uuid4())

    answer = await who.get("/contacts", params={"cursor": cursor})

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_cursor"


async def test_a_cursor_of_one_sort_is_refused_for_another(
    two_orgs: tuple[Caller, Caller],
) -> None:
    first, _ = two_orgs
    page = (await first.get("/contacts", params={"limit": 2})).json()

    answer = await first.get(
        "/contacts", params={"cursor": page["next_cursor"], "sort": "created_at"}
    )

    assert answer.status_code == 400


async def test_bad_query_values_answer_422_not_500(
    caller: Callable[..., Caller],
) -> None:
    who = caller(uuid.uuid4(), uuid.uuid4())
    for params in (
        {"limit": 0},
        {"limit": 10_000},
        {"sort": "username; drop table"},
        {"interacted_after": "2026-01-01T00:00:00"},
        {"tag": "nope"},
    ):
        answer = await who.get("/contacts", params=params)
        assert answer.status_code == 422, params
