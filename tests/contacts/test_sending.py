"""The one send path: what it refuses, what it sends, and that it sends once.

A real contacts service and worker runtime, a real gateway holding the
organization's token, and Meta's Send API as a stand-in on loopback that
records every send it takes.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.embedded import free_port
from services.contacts import SPEC as CONTACTS
from services.contacts import sending
from services.contacts.app import create as create_contacts
from services.contacts.sending import Outbound, SendOutcome, SendPolicy
from services.contacts.settings import ContactsSettings
from services.gateway import SPEC as GATEWAY
from services.gateway.app import create as create_gateway
from services.gateway.models import Organization
from services.gateway.orgs import integrations
from services.gateway.settings import GatewaySettings
from shared.db import unit_of_work
from shared.runtime import Runtime, open_runtime
from tests.conftest import Stores
from tests.contacts.conftest import (
    BUSINESS_ACCOUNT,
    Caller,
    deliver,
    igsid,
    instagram_event,
)
from tests.loopback import serve
from tests.stand_ins.meta_send import MetaSendApi, running_send_api

PAGE_TOKEN = "EAAP" + secrets.token_urlsafe(40)
FAST = SendPolicy(max_attempts=4, first_delay_seconds=0.01)
AUTOMATED = ("scenario", "campaign", "ai")


@pytest.fixture
async def gateway_url(stores: Stores, redis: Redis) -> AsyncIterator[str]:
    async with serve(create_gateway(GatewaySettings(bcrypt_rounds=4))) as url:
        yield url


async def _organization(connected: bool) -> uuid.UUID:
    """An organization, its Instagram account connected with PAGE_TOKEN or not."""
    runtime = open_runtime(GATEWAY, GatewaySettings())
    org = uuid.uuid4()
    try:
        async with unit_of_work(runtime.sessions, org) as session:
            session.add(
                Organization(
                    id=org,
                    name="Tea House",
                    instagram_account_id=f"1784{uuid.uuid4().int % 10**13:013d}",
                    instagram_username="tea_house",
                )
            )
            await session.flush()
            if connected:
                integrations.store(
                    session,
                    runtime.secrets.master_keys,
                    org_id=org,
                    provider="instagram",
                    token=PAGE_TOKEN,
                    external_account_id=BUSINESS_ACCOUNT,
                )
    finally:
        await runtime.close()
    return org


@pytest.fixture
async def org_id(stores: Stores) -> uuid.UUID:
    return await _organization(connected=True)


@pytest.fixture
async def meta() -> AsyncIterator[MetaSendApi]:
    async with running_send_api(PAGE_TOKEN) as stand_in:
        yield stand_in


def _settings(gateway_url: str, meta: MetaSendApi) -> ContactsSettings:
    # META_GRAPH_URL is a shared setting, read by its alias: given by name here.
    overrides: dict[str, Any] = {
        "gateway_url": gateway_url,
        "meta_graph_url": meta.graph_url,
        "meta_timeout_seconds": 5.0,
    }
    return ContactsSettings(**overrides)


@pytest.fixture
async def worker(gateway_url: str, meta: MetaSendApi) -> AsyncIterator[Runtime]:
    """The contacts worker's runtime, pointed at the gateway and the stand-in."""
    runtime = open_runtime(CONTACTS, _settings(gateway_url, meta))
    yield runtime
    await runtime.close()


@pytest.fixture
async def person(
    gateway_url: str,
    meta: MetaSendApi,
    worker: Runtime,
    org_id: uuid.UUID,
) -> AsyncIterator[Caller]:
    """A team member of the organization, over HTTP to the contacts service."""
    app = create_contacts(_settings(gateway_url, meta))
    async with serve(app) as url:
        keys = worker.secrets.internal_signing_keys
        caller = Caller(url, keys, org_id, uuid.uuid4())
        yield caller
        await caller.http.aclose()


async def _contact_who_wrote(
    worker: Runtime,
    meta: MetaSendApi,
    engine: AsyncEngine,
    org: uuid.UUID,
    ago: timedelta,
) -> uuid.UUID:
    """A contact Meta knows, who last wrote ``ago``; their contact id."""
    instagram_id = igsid()
    meta.recipients.add(instagram_id)
    at = datetime.now(UTC) - ago
    event = instagram_event(
        worker.secrets.master_keys, org, contact=instagram_id, text="hi", at=at
    )
    assert await deliver(worker, event) == "handled"
    [row] = await _rows(
        engine,
        "select id from contacts.contacts where org_id = :org "
        "and instagram_id = :igsid",
        org=org,
        igsid=instagram_id,
    )
    return uuid.UUID(str(row.id))


async def _rows(engine: AsyncEngine, query: str, **values: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(text(query), values))


async def _sends(engine: AsyncEngine, contact: uuid.UUID) -> list[Any]:
    return await _rows(
        engine,
        "select * from contacts.sends where contact_id = :contact "
        "order by created_at, id",
        contact=contact,
    )


async def _automated(
    worker: Runtime, org: uuid.UUID, contact: uuid.UUID, kind: Any, words: str = "Hi!"
) -> SendOutcome:
    outbound = Outbound(org_id=org, contact_id=contact, text=words, sender_kind=kind)
    [outcome] = await sending.send(worker, outbound, FAST)
    return outcome


async def _reply(person: Caller, contact: uuid.UUID, **body: Any) -> Any:
    return await person.request("POST", f"/contacts/{contact}/messages", json=body)


async def _conversation(person: Caller, contact: uuid.UUID) -> list[tuple[Any, ...]]:
    answer = await person.get(f"/contacts/{contact}/messages")
    assert answer.status_code == 200, answer.text
    return [
        (m["direction"], m["sender_kind"], m["text"]) for m in answer.json()["items"]
    ]


async def _taken_over(engine: AsyncEngine, contact: uuid.UUID) -> Any:
    [row] = await _rows(
        engine,
        "select taken_over_at, taken_over_by_user_id from contacts.conversations "
        "where contact_id = :contact",
        contact=contact,
    )
    return row


async def test_a_reply_by_hand_reaches_the_contact_and_is_stored_as_a_persons(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(hours=1)
    )

    answer = await _reply(person, contact, text="Yes, we ship to Lisbon.")

    assert answer.status_code == 201, answer.text
    [part] = answer.json()["items"]
    [received] = meta.received
    assert (received.text, received.messaging_type, received.tag) == (
        "Yes, we ship to Lisbon.",
        "RESPONSE",
        None,
    )
    assert part["instagram_message_id"] == received.message_id
    assert await _conversation(person, contact) == [
        ("out", "person", "Yes, we ship to Lisbon."),
        ("in", "contact", "hi"),
    ]
    [send] = await _sends(owner_engine, contact)
    assert (send.state, send.sender_kind, send.by_user_id) == (
        "sent",
        "person",
        person.user_id,
    )
    assert (await _taken_over(owner_engine, contact)).taken_over_by_user_id == (
        person.user_id
    )


def _refusals_counted(reason: str) -> float:
    """What the metrics endpoint would show for refusals with ``reason``."""
    sample = REGISTRY.get_sample_value("ojime_sends_refused_total", {"reason": reason})
    return sample or 0.0


async def test_an_opted_out_contact_gets_nothing_from_any_sender(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    opted = await person.request(
        "PATCH", f"/contacts/{contact}", json={"opted_out": True}
    )
    assert opted.status_code == 200, opted.text

    refused_before = _refusals_counted("opted_out")
    outcomes = [await _automated(worker, org_id, contact, kind) for kind in AUTOMATED]
    answer = await _reply(person, contact, text="Are you still there?")

    assert _refusals_counted("opted_out") - refused_before == 4
    assert [(o.state, o.reason) for o in outcomes] == [("refused", "opted_out")] * 3
    assert answer.status_code == 409
    assert answer.json()["error"]["details"][0]["reason"] == "opted_out"
    assert meta.received == []
    recorded = await _sends(owner_engine, contact)
    assert sorted(row.sender_kind for row in recorded) == sorted([*AUTOMATED, "person"])
    assert {(row.state, row.reason) for row in recorded} == {("refused", "opted_out")}


async def test_after_24_hours_automation_is_refused_and_a_person_uses_the_tag(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(hours=30)
    )

    outcomes = [await _automated(worker, org_id, contact, kind) for kind in AUTOMATED]
    answer = await _reply(person, contact, text="Sorry for the wait!")

    assert {(o.state, o.reason) for o in outcomes} == {("refused", "outside_window")}
    assert answer.status_code == 201, answer.text
    assert answer.json()["items"][0]["tag"] == "HUMAN_AGENT"
    [received] = meta.received
    assert (received.messaging_type, received.tag) == ("MESSAGE_TAG", "HUMAN_AGENT")


async def test_after_7_days_even_a_person_is_refused(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(days=7, hours=1)
    )

    answer = await _reply(person, contact, text="Still interested?")

    assert answer.status_code == 409
    assert answer.json()["error"]["details"][0]["reason"] == "outside_window"
    assert meta.received == []
    [send] = await _sends(owner_engine, contact)
    assert (send.state, send.reason) == ("refused", "outside_window")


async def test_a_taken_over_conversation_refuses_automation_but_not_a_person(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    assert (await _automated(worker, org_id, contact, "ai")).sent
    assert (await _reply(person, contact, text="I'll take it from here.")).is_success

    outcomes = [await _automated(worker, org_id, contact, kind) for kind in AUTOMATED]
    again = await _reply(person, contact, text="Anything else?")

    assert {(o.state, o.reason) for o in outcomes} == {("refused", "taken_over")}
    assert again.status_code == 201, again.text
    assert [r.text for r in meta.received] == [
        "Hi!",
        "I'll take it from here.",
        "Anything else?",
    ]


async def test_a_hand_over_stops_automation(
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )

    async with unit_of_work(worker.sessions, org_id) as session:
        await sending.hand_over(session, org_id, contact, None)
    outcome = await _automated(worker, org_id, contact, "scenario")

    assert (outcome.state, outcome.reason) == ("refused", "taken_over")
    assert (await _taken_over(owner_engine, contact)).taken_over_at is not None
    assert meta.received == []


async def test_a_text_over_1000_bytes_is_refused_unless_split(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    # 30 sentences of 37 bytes, each with a two-byte letter: 1,109 bytes.
    sentences = [f"Sentence {n:02d} is about our chá verde. " for n in range(30)]
    long_text = "".join(sentences).strip()
    assert len(long_text.encode()) > 1000

    refused = await _reply(person, contact, text=long_text)
    split = await _reply(person, contact, text=long_text, split=True)

    assert refused.status_code == 409
    assert refused.json()["error"]["details"][0]["reason"] == "text_too_long"
    assert split.status_code == 201, split.text
    parts = [r.text for r in meta.received]
    assert len(parts) == len(split.json()["items"]) == 2
    assert all(len(part.encode()) <= 1000 for part in parts)
    assert all(part.endswith("verde.") for part in parts)
    assert " ".join(parts) == long_text


async def test_a_rate_limit_is_retried_and_the_message_sent_once(
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    meta.troubles = ["rate_limit_app", "rate_limit_api", "transient"]

    outcome = await _automated(worker, org_id, contact, "campaign")

    assert outcome.sent
    assert meta.refused == [4, 613, 2]
    assert [r.text for r in meta.received] == ["Hi!"]
    [send] = await _sends(owner_engine, contact)
    assert (send.state, send.attempts) == ("sent", 4)


async def test_retries_stop_after_the_last_attempt(
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    meta.troubles = ["transient"] * 10

    outcome = await _automated(worker, org_id, contact, "ai")

    assert (outcome.state, outcome.reason) == ("failed", "meta_unavailable")
    assert len(meta.refused) == FAST.max_attempts
    assert meta.received == []


@pytest.mark.parametrize(
    ("blocked", "reason", "code"),
    [(True, "user_blocked", 551), (False, "user_not_found", 100)],
    ids=["blocked", "unknown"],
)
async def test_a_permanent_error_is_not_retried_and_is_recorded(
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
    blocked: bool,
    reason: str,
    code: int,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    [instagram_id] = meta.recipients
    meta.recipients.discard(instagram_id)
    if blocked:
        meta.blocked.add(instagram_id)

    outcome = await _automated(worker, org_id, contact, "ai")

    assert (outcome.state, outcome.reason) == ("failed", reason)
    assert meta.refused == [code]
    [send] = await _sends(owner_engine, contact)
    assert (send.state, send.reason, send.meta_error_code, send.attempts) == (
        "failed",
        reason,
        code,
        1,
    )


async def test_asking_again_with_the_same_id_sends_nothing_new(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    message_id = str(uuid.uuid4())

    first = await _reply(person, contact, text="On its way!", id=message_id)
    again = await _reply(person, contact, text="On its way!", id=message_id)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(meta.received) == 1


async def test_a_send_cut_off_after_meta_took_it_is_not_sent_again(
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    outbound = Outbound(
        org_id=org_id, contact_id=contact, text="Your code: 4417", sender_kind="ai"
    )
    meta.hold = True
    cut_off = asyncio.create_task(sending.send(worker, outbound, FAST))
    while not meta.received:
        await asyncio.sleep(0.01)
    cut_off.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cut_off
    meta.hold = False

    [outcome] = await sending.send(worker, outbound, FAST)

    assert (outcome.state, outcome.reason) == ("unconfirmed", "interrupted")
    assert [r.text for r in meta.received] == ["Your code: 4417"]
    [send] = await _sends(owner_engine, contact)
    assert send.state == "unconfirmed"


async def test_our_own_echo_is_not_taken_for_a_persons_reply(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    [instagram_id] = meta.recipients
    assert (await _automated(worker, org_id, contact, "ai", "We open at 9.")).sent
    [sent] = meta.received
    keys = worker.secrets.master_keys

    ours = instagram_event(
        keys,
        org_id,
        kind="echo",
        contact=instagram_id,
        text="We open at 9.",
        message_id=sent.message_id,
    )
    assert await deliver(worker, ours) == "handled"

    assert await _conversation(person, contact) == [
        ("out", "ai", "We open at 9."),
        ("in", "contact", "hi"),
    ]
    assert (await _taken_over(owner_engine, contact)).taken_over_at is None

    typed = instagram_event(
        keys, org_id, kind="echo", contact=instagram_id, text="Typed in the app"
    )
    assert await deliver(worker, typed) == "handled"
    assert (await _conversation(person, contact))[0] == (
        "out",
        "person",
        "Typed in the app",
    )
    assert (await _automated(worker, org_id, contact, "ai")).reason == "taken_over"


async def test_an_organization_without_instagram_sends_nothing(
    worker: Runtime, meta: MetaSendApi, owner_engine: AsyncEngine
) -> None:
    org = await _organization(connected=False)
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org, timedelta(minutes=5)
    )

    outcome = await _automated(worker, org, contact, "ai")

    assert (outcome.state, outcome.reason) == ("refused", "instagram_not_connected")
    assert meta.received == []


async def test_another_organizations_contact_answers_404_and_gets_nothing(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    owner_engine: AsyncEngine,
) -> None:
    elsewhere = await _organization(connected=True)
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, elsewhere, timedelta(minutes=5)
    )

    answer = await _reply(person, contact, text="Hello from the wrong shop")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "contact_not_found"
    assert meta.received == []
    assert await _sends(owner_engine, contact) == []


async def test_a_gateway_out_of_reach_fails_the_send_and_records_it(
    meta: MetaSendApi, org_id: uuid.UUID, owner_engine: AsyncEngine, redis: Redis
) -> None:
    runtime = open_runtime(CONTACTS, _settings(f"http://127.0.0.1:{free_port()}", meta))
    try:
        contact = await _contact_who_wrote(
            runtime, meta, owner_engine, org_id, timedelta(minutes=5)
        )
        outcome = await _automated(runtime, org_id, contact, "ai")
    finally:
        await runtime.close()

    assert (outcome.state, outcome.reason) == ("failed", "token_unavailable")
    assert meta.received == []
    [send] = await _sends(owner_engine, contact)
    assert (send.state, send.reason) == ("failed", "token_unavailable")


async def test_a_message_id_already_used_by_another_message_is_refused(
    person: Caller,
    worker: Runtime,
    meta: MetaSendApi,
    org_id: uuid.UUID,
    owner_engine: AsyncEngine,
) -> None:
    contact = await _contact_who_wrote(
        worker, meta, owner_engine, org_id, timedelta(minutes=5)
    )
    [inbound] = (await person.get(f"/contacts/{contact}/messages")).json()["items"]

    answer = await _reply(person, contact, text="Hi there", id=inbound["id"])

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "message_id_taken"
    assert meta.received == []
