"""Instagram webhooks: Meta's calls over real HTTP to a real gateway.

Deliveries are signed as Meta signs them; what they leave behind is read
straight from the gateway's tables: the outbox, the sealed deliveries and the
work items.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.app import create as create_gateway
from services.gateway.models import INSTAGRAM_DELIVERY_BODY
from services.gateway.settings import GatewaySettings
from services.gateway.tasks import work_kinds
from services.gateway.webhooks.events import SEALED_TABLE
from services.gateway.webhooks.signature import signature_of
from shared.crypto.cipher import open_sealed
from shared.crypto.keyring import KeyRing
from shared.runtime import Runtime
from shared.work import run_item
from tests.conftest import Stores
from tests.loopback import serve

APP_SECRET = "the-meta-app-secret"
VERIFY_TOKEN = "the-verify-token"
BODY_LIMIT = 64 * 1024
PATH = "/webhooks/instagram"


@dataclass
class Meta:
    """Meta's webhook sender, pointed at our gateway."""

    http: httpx.AsyncClient
    runtime: Runtime

    @property
    def master_keys(self) -> KeyRing:
        return self.runtime.secrets.master_keys

    async def deliver(
        self, body: bytes, signature: str | None = "sign"
    ) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if signature == "sign":
            signature = signature_of(body, APP_SECRET)
        if signature is not None:
            headers["x-hub-signature-256"] = signature
        return await self.http.post(PATH, content=body, headers=headers)


@pytest.fixture
async def meta(stores: Stores, redis: Redis) -> AsyncIterator[Meta]:
    # Given by field name: mypy knows these by their environment names only.
    given: dict[str, Any] = {
        "meta_app_secret": APP_SECRET,
        "meta_verify_token": VERIFY_TOKEN,
        "webhook_max_body_bytes": BODY_LIMIT,
    }
    settings = GatewaySettings(**given)
    app = create_gateway(settings)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        yield Meta(http, app.state.runtime)


@dataclass(frozen=True)
class Org:
    id: uuid.UUID
    account_id: str


@pytest.fixture
async def org(owner_engine: AsyncEngine) -> Org:
    return await _connected_organization(owner_engine)


async def _connected_organization(owner_engine: AsyncEngine) -> Org:
    made = Org(uuid.uuid4(), str(uuid.uuid4().int)[:17])
    async with owner_engine.begin() as connection:
        await connection.execute(
            text(
                "insert into gateway.organizations (id, name, instagram_account_id, "
                "instagram_username, require_two_factor) "
                "values (:id, 'Bakery', :account, 'bakery', false)"
            ),
            {"id": made.id, "account": made.account_id},
        )
    return made


def _ids() -> Iterator[str]:
    while True:
        yield f"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE{uuid.uuid4().hex}"


MIDS = _ids()


def text_message(account_id: str, words: str, mid: str | None = None) -> dict[str, Any]:
    return {
        "sender": {"id": "1780000000000001"},
        "recipient": {"id": account_id},
        "timestamp": 1764770000000,
        "message": {"mid": mid or next(MIDS), "text": words},
    }


def delivery(*entries: tuple[str, list[dict[str, Any]]]) -> bytes:
    body = {
        "object": "instagram",
        "entry": [
            {"id": account_id, "time": 1764770000, "messaging": items}
            for account_id, items in entries
        ],
    }
    return json.dumps(body).encode()


async def _events(owner_engine: AsyncEngine, org_id: uuid.UUID) -> list[Any]:
    async with owner_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "select event_id, destination, payload, payload::text as raw "
                "from gateway.outbox where org_id = :org and "
                "event_type = 'instagram.message_received' order by created_at"
            ),
            {"org": org_id},
        )
        return list(rows)


async def _deliveries(owner_engine: AsyncEngine, org_id: uuid.UUID) -> list[Any]:
    async with owner_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "select id, body from gateway.instagram_deliveries "
                "where org_id = :org order by received_at"
            ),
            {"org": org_id},
        )
        return list(rows)


def _opened(ring: KeyRing, row: Any, field: str) -> Any:
    sealed = base64.b64decode(row.payload["sealed"][field])
    plaintext = open_sealed(
        ring, sealed, table=SEALED_TABLE, column=field, row_id=row.event_id
    )
    return json.loads(plaintext)


# The subscription check


async def test_the_subscription_check_echoes_the_challenge(meta: Meta) -> None:
    answer = await meta.http.get(
        PATH,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert answer.status_code == 200
    assert answer.text == "1158201444"
    assert answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "a-guess"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN},
        {"hub.verify_token": VERIFY_TOKEN},
        {},
    ],
    ids=["wrong token", "wrong mode", "no mode", "nothing"],
)
async def test_a_subscription_check_without_our_token_is_refused(
    meta: Meta, params: dict[str, str]
) -> None:
    answer = await meta.http.get(PATH, params={**params, "hub.challenge": "zq-echo"})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "verify_token_mismatch"
    assert "zq-echo" not in answer.text


# Signed deliveries


async def test_a_signed_message_becomes_one_event_for_contacts(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    item = text_message(org.account_id, "Do you deliver on Sundays?")
    answer = await meta.deliver(delivery((org.account_id, [item])))

    assert answer.status_code == 200
    [event] = await _events(owner_engine, org.id)
    assert event.destination == "contacts"
    assert event.payload["kind"] == "message"
    assert event.payload["message_id"] == item["message"]["mid"]
    assert event.payload["sender_id"] == "1780000000000001"
    assert event.payload["recipient_id"] == org.account_id
    assert event.payload["timestamp"] == 1764770000000
    assert _opened(meta.master_keys, event, "text") == "Do you deliver on Sundays?"


async def test_no_plaintext_of_a_message_is_stored(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    words = "my address is 12 Rue Oberkampf"
    item = text_message(org.account_id, words)
    item["message"]["attachments"] = [
        {"type": "image", "payload": {"url": "https://cdn.example/secret.jpg"}}
    ]
    body = delivery((org.account_id, [item]))
    await meta.deliver(body)

    [event] = await _events(owner_engine, org.id)
    [stored] = await _deliveries(owner_engine, org.id)
    for secret in (words, "Oberkampf", "secret.jpg"):
        assert secret not in event.raw
        assert secret.encode() not in bytes(stored.body)
    opened = INSTAGRAM_DELIVERY_BODY.open(meta.master_keys, stored.body, stored.id)
    assert opened == body
    assert _opened(meta.master_keys, event, "attachments")[0]["type"] == "image"


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha1=abc", signature_of(b"{}", APP_SECRET)],
    ids=["missing", "empty", "wrong", "other algorithm", "of another body"],
)
async def test_a_delivery_not_signed_by_meta_is_refused_and_not_stored(
    meta: Meta, org: Org, owner_engine: AsyncEngine, signature: str | None
) -> None:
    body = delivery((org.account_id, [text_message(org.account_id, "hi")]))
    answer = await meta.deliver(body, signature=signature)

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "signature_mismatch"
    assert await _events(owner_engine, org.id) == []
    assert await _deliveries(owner_engine, org.id) == []


async def test_a_delivery_signed_with_another_secret_is_refused(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    body = delivery((org.account_id, [text_message(org.account_id, "hi")]))
    answer = await meta.deliver(body, signature=signature_of(body, "not-ours"))

    assert answer.status_code == 403
    assert await _events(owner_engine, org.id) == []


async def test_an_oversized_delivery_gets_413_and_is_not_stored(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    words = "x" * BODY_LIMIT
    body = delivery((org.account_id, [text_message(org.account_id, words)]))
    answer = await meta.deliver(body)

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert await _events(owner_engine, org.id) == []


async def test_a_body_without_a_declared_length_is_counted_as_it_arrives(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(BODY_LIMIT // 1024 + 1):
            yield b" " * 1024

    answer = await meta.http.post(
        PATH, content=chunks(), headers={"x-hub-signature-256": "sha256=00"}
    )
    assert answer.status_code == 413
    assert await _events(owner_engine, org.id) == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"object": "page", "entry": []}',
        b'{"object": "instagram", "entry": {"id": "1"}}',
        b'{"object": "instagram", "entry": [{"messaging": []}]}',
        b'{"object": "instagram", "entry": [{"id": 17, "messaging": []}]}',
    ],
    ids=["not json", "a list", "not instagram", "entry", "no id", "numeric id"],
)
async def test_a_signed_delivery_of_the_wrong_shape_gets_400(
    meta: Meta, body: bytes
) -> None:
    answer = await meta.deliver(body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "malformed_delivery"


async def test_a_delivery_for_an_account_nobody_connected_is_dropped(
    meta: Meta, owner_engine: AsyncEngine
) -> None:
    stranger = "17841400000000000"
    answer = await meta.deliver(
        delivery((stranger, [text_message(stranger, "hello?")]))
    )

    assert answer.status_code == 200
    async with owner_engine.connect() as connection:
        found = await connection.scalar(
            text(
                "select count(*) from gateway.outbox "
                "where payload->>'instagram_account_id' = :account"
            ),
            {"account": stranger},
        )
    assert found == 0


async def test_a_delivery_for_two_organizations_reaches_each_alone(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    other = await _connected_organization(owner_engine)
    body = delivery(
        (org.account_id, [text_message(org.account_id, "for the bakery")]),
        (other.account_id, [text_message(other.account_id, "for the other")]),
    )
    assert (await meta.deliver(body)).status_code == 200

    for owner, words, stranger in (
        (org, "for the bakery", other),
        (other, "for the other", org),
    ):
        [event] = await _events(owner_engine, owner.id)
        [stored] = await _deliveries(owner_engine, owner.id)
        assert _opened(meta.master_keys, event, "text") == words
        kept = INSTAGRAM_DELIVERY_BODY.open(meta.master_keys, stored.body, stored.id)
        assert [entry["id"] for entry in json.loads(kept)["entry"]] == [
            owner.account_id
        ]
        assert stranger.account_id.encode() not in kept


# Redeliveries


async def test_a_redelivered_message_is_emitted_once(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    body = delivery((org.account_id, [text_message(org.account_id, "again?")]))
    first = await meta.deliver(body)
    second = await meta.deliver(body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json(), second.json()) == ({"events": 1}, {"events": 0})
    assert len(await _events(owner_engine, org.id)) == 1
    assert len(await _deliveries(owner_engine, org.id)) == 1


async def test_ten_copies_at_the_same_moment_make_one_event(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    body = delivery((org.account_id, [text_message(org.account_id, "hurry")]))
    answers = await asyncio.gather(*(meta.deliver(body) for _ in range(10)))

    assert [answer.status_code for answer in answers] == [200] * 10
    assert sum(answer.json()["events"] for answer in answers) == 1
    assert len(await _events(owner_engine, org.id)) == 1


async def test_a_batch_with_one_new_item_emits_only_that_one(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    seen = text_message(org.account_id, "first")
    await meta.deliver(delivery((org.account_id, [seen])))
    fresh = text_message(org.account_id, "second")
    answer = await meta.deliver(delivery((org.account_id, [seen, fresh])))

    assert answer.json() == {"events": 1}
    events = await _events(owner_engine, org.id)
    assert [event.payload["message_id"] for event in events] == [
        seen["message"]["mid"],
        fresh["message"]["mid"],
    ]


# Retention


async def test_a_stored_delivery_is_deleted_when_its_retention_ends(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    await meta.deliver(delivery((org.account_id, [text_message(org.account_id, "x")])))
    [stored] = await _deliveries(owner_engine, org.id)
    async with owner_engine.begin() as connection:
        due = await connection.scalar(
            text(
                "update gateway.work_items set due_at = now() where id = :id "
                "returning due_at"
            ),
            {"id": stored.id},
        )
    assert due is not None

    await run_item(meta.runtime, work_kinds, stored.id)

    assert await _deliveries(owner_engine, org.id) == []
    assert len(await _events(owner_engine, org.id)) == 1


async def test_a_delivery_is_kept_until_its_retention_ends(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    await meta.deliver(delivery((org.account_id, [text_message(org.account_id, "x")])))
    [stored] = await _deliveries(owner_engine, org.id)

    await run_item(meta.runtime, work_kinds, stored.id)

    assert len(await _deliveries(owner_engine, org.id)) == 1


# Every kind of messaging item

CUSTOMER = "1780000000000001"
STORY = {"id": "18040000000000001", "url": "https://lookaside.example/story/1"}
SHARED = {"type": "share", "payload": {"url": "https://www.instagram.com/p/Cx1/"}}


def _item(account_id: str, **body: Any) -> dict[str, Any]:
    return {
        "sender": {"id": CUSTOMER},
        "recipient": {"id": account_id},
        "timestamp": 1764770000000,
        **body,
    }


KINDS: list[tuple[str, dict[str, Any], str, dict[str, Any], dict[str, Any]]] = [
    (
        "text",
        {"message": {"mid": "m-text", "text": "Hello"}},
        "message",
        {"message_id": "m-text", "attachment_types": []},
        {"text": "Hello"},
    ),
    (
        "image",
        {
            "message": {
                "mid": "m-image",
                "attachments": [
                    {"type": "image", "payload": {"url": "https://cdn.example/1"}}
                ],
            }
        },
        "message",
        {"attachment_types": ["image"]},
        {
            "attachments": [
                {"type": "image", "payload": {"url": "https://cdn.example/1"}}
            ]
        },
    ),
    (
        "story reply",
        {
            "message": {
                "mid": "m-story",
                "text": "Love it",
                "reply_to": {"story": STORY},
            }
        },
        "message",
        {"reply_to_story_id": STORY["id"], "reply_to_message_id": None},
        {"text": "Love it", "reply_to_story": STORY},
    ),
    (
        "story mention",
        {
            "message": {
                "mid": "m-mention",
                "attachments": [
                    {"type": "story_mention", "payload": {"url": STORY["url"]}}
                ],
            }
        },
        "message",
        {"attachment_types": ["story_mention"]},
        {"attachments": [{"type": "story_mention", "payload": {"url": STORY["url"]}}]},
    ),
    (
        "share",
        {"message": {"mid": "m-share", "attachments": [SHARED]}},
        "message",
        {"attachment_types": ["share"]},
        {"attachments": [SHARED]},
    ),
    (
        "reply to a message",
        {"message": {"mid": "m-reply", "text": "Yes", "reply_to": {"mid": "m-0"}}},
        "message",
        {"reply_to_message_id": "m-0"},
        {"text": "Yes"},
    ),
    (
        "quick reply",
        {
            "message": {
                "mid": "m-quick",
                "text": "Medium",
                "quick_reply": {"payload": "SIZE_M"},
            }
        },
        "message",
        {"quick_reply_payload": "SIZE_M"},
        {"text": "Medium"},
    ),
    (
        "echo",
        {"message": {"mid": "m-echo", "text": "On our way", "is_echo": True}},
        "echo",
        {"message_id": "m-echo"},
        {"text": "On our way"},
    ),
    (
        "postback",
        {"postback": {"mid": "m-postback", "title": "Menu", "payload": "MENU"}},
        "postback",
        {"message_id": "m-postback", "postback_payload": "MENU"},
        {},
    ),
    (
        "reaction",
        {
            "reaction": {
                "mid": "m-text",
                "action": "react",
                "reaction": "love",
                "emoji": "\u2764\ufe0f",
            }
        },
        "reaction",
        {"message_id": "m-text", "action": "react", "emoji": "\u2764\ufe0f"},
        {},
    ),
    (
        "unreaction",
        {"reaction": {"mid": "m-text", "action": "unreact"}},
        "reaction",
        {"message_id": "m-text", "action": "unreact"},
        {},
    ),
    ("read", {"read": {"mid": "m-echo"}}, "read", {"message_id": "m-echo"}, {}),
    (
        "unsend",
        {"message": {"mid": "m-text", "is_deleted": True}},
        "unsend",
        {"message_id": "m-text"},
        {},
    ),
    (
        "edit",
        {"message_edit": {"mid": "m-text", "text": "Hello!", "num_edit": 1}},
        "edit",
        {"message_id": "m-text", "edit_count": 1},
        {"text": "Hello!"},
    ),
    (
        "unknown",
        {"optin": {"type": "notification_messages", "payload": "X"}},
        "unknown",
        {"sender_id": CUSTOMER},
        {},
    ),
    (
        "message without id",
        {"message": {"text": "no mid"}},
        "unknown",
        {},
        {},
    ),
]


@pytest.mark.parametrize(
    ("body", "kind", "plain", "sealed"),
    [case[1:] for case in KINDS],
    ids=[case[0] for case in KINDS],
)
async def test_each_kind_of_item_becomes_an_event_of_its_kind(
    meta: Meta,
    org: Org,
    owner_engine: AsyncEngine,
    body: dict[str, Any],
    kind: str,
    plain: dict[str, Any],
    sealed: dict[str, Any],
) -> None:
    item = _item(org.account_id, **body)
    answer = await meta.deliver(delivery((org.account_id, [item])))

    assert answer.status_code == 200
    [event] = await _events(owner_engine, org.id)
    assert event.payload["kind"] == kind
    assert event.payload["sender_id"] == CUSTOMER
    assert event.payload["timestamp"] == 1764770000000
    assert {name: event.payload.get(name) for name in plain} == plain
    for name, value in sealed.items():
        assert _opened(meta.master_keys, event, name) == value
    if kind == "unknown":
        assert _opened(meta.master_keys, event, "item") == item


async def test_items_sent_as_changes_are_understood_too(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    item = _item(org.account_id, message={"mid": "m-change", "text": "Hi"})
    body = {
        "object": "instagram",
        "entry": [
            {
                "id": org.account_id,
                "time": 1764770000,
                "changes": [
                    {"field": "messages", "value": item},
                    {"field": "comments", "value": {"id": "c-1", "text": "nice"}},
                ],
            }
        ],
    }
    await meta.deliver(json.dumps(body).encode())

    [event] = await _events(owner_engine, org.id)
    assert event.payload["kind"] == "message"
    assert _opened(meta.master_keys, event, "text") == "Hi"


async def test_a_batch_of_every_kind_makes_one_event_each(
    meta: Meta, org: Org, owner_engine: AsyncEngine
) -> None:
    items = [_item(org.account_id, **case[1]) for case in KINDS]
    answer = await meta.deliver(delivery((org.account_id, items)))

    assert answer.json() == {"events": len(KINDS)}
    events = await _events(owner_engine, org.id)
    kinds = sorted(event.payload["kind"] for event in events)
    assert kinds == sorted(case[2] for case in KINDS)
