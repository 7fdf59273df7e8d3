"""Meta's Instagram messaging notifications, read into items of known kinds.

A delivery is ``{"object": "instagram", "entry": [...]}``; each entry names
the Instagram professional account (``id``) and carries messaging items,
either under ``messaging`` or, as some API setups send them, as ``changes``
whose ``value`` is the item. An item is one of:

- ``message``: ``message`` with ``mid`` and any of ``text``, ``attachments``
  (images, videos, audio, files, shares, story mentions, reels), ``reply_to``
  (a message, or a story with its ``url``), ``quick_reply`` and ``referral``;
- ``echo``: the same with ``is_echo``, a message the account itself sent;
- ``unsend``: the same with ``is_deleted``, a message its sender took back;
- ``edit``: ``message_edit`` with ``mid``, the new ``text`` and ``num_edit``;
- ``postback``: ``postback`` with ``mid``, ``title`` and ``payload``;
- ``reaction``: ``reaction`` with ``mid``, ``action`` (react or unreact),
  ``reaction`` and ``emoji``;
- ``read``: ``read`` with the ``mid`` read up to;
- ``unknown``: anything else, or a known kind without its message id. It is
  kept whole, sealed, and consumers ignore it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from services.gateway.webhooks.errors import MalformedDelivery

Kind = Literal[
    "message", "echo", "postback", "reaction", "read", "unsend", "edit", "unknown"
]
Fields = dict[str, JsonValue]

# The webhook fields whose ``changes`` carry a messaging item as their value.
MESSAGING_FIELDS = frozenset(
    {
        "messages",
        "messaging_postbacks",
        "message_reactions",
        "messaging_seen",
        "message_edit",
        "messaging_referral",
    }
)


class Change(BaseModel):
    model_config = ConfigDict(extra="allow")

    field: str
    value: JsonValue = None


class Entry(BaseModel):
    # Extra fields are kept, so an entry written back out is the one received.
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=64)
    time: int | None = None
    messaging: list[dict[str, JsonValue]] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)


class Delivery(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: Literal["instagram"]
    entry: list[Entry]


@dataclass(frozen=True)
class Item:
    """One messaging item of one account, normalised.

    ``plain`` holds what may travel in the clear (ids, times, the kind's
    small fields); ``private`` holds what a person wrote or sent, which is
    sealed before it leaves this process.
    """

    account_id: str
    kind: Kind
    key: str
    plain: Fields = field(default_factory=dict)
    private: Fields = field(default_factory=dict)


def parse_delivery(body: bytes) -> Delivery:
    """The delivery in ``body``; :class:`MalformedDelivery` if it is not one."""
    try:
        return Delivery.model_validate_json(body)
    except ValidationError:
        raise MalformedDelivery() from None


def items_of(delivery: Delivery) -> list[Item]:
    """Every messaging item of the delivery, in the order Meta sent them."""
    return [normalise(entry.id, raw) for entry in delivery.entry for raw in _raw(entry)]


def _raw(entry: Entry) -> list[dict[str, JsonValue]]:
    from_changes = [
        change.value
        for change in entry.changes
        if change.field in MESSAGING_FIELDS and isinstance(change.value, dict)
    ]
    return [*entry.messaging, *from_changes]


def normalise(account_id: str, raw: dict[str, JsonValue]) -> Item:
    """The item ``raw`` of ``account_id``'s entry, its kind recognised."""
    common: Fields = {
        "sender_id": _id_of(raw.get("sender")),
        "recipient_id": _id_of(raw.get("recipient")),
        "timestamp": _integer(raw.get("timestamp")),
    }
    for name, reader in _READERS:
        body = raw.get(name)
        if isinstance(body, dict):
            item = reader(account_id, body, common)
            if item is not None:
                return item
    return _unknown(account_id, raw, common)


def _message(account_id: str, body: Fields, common: Fields) -> Item | None:
    mid = _text(body.get("mid"))
    if mid is None:
        return None
    kind: Kind = "message"
    if body.get("is_deleted") is True:
        kind = "unsend"
    elif body.get("is_echo") is True:
        kind = "echo"
    plain, private = _message_fields(body) if kind != "unsend" else ({}, {})
    return Item(account_id, kind, mid, {**common, "message_id": mid, **plain}, private)


def _message_fields(body: Fields) -> tuple[Fields, Fields]:
    attachments = body.get("attachments")
    reply_to = _object(body.get("reply_to"))
    story = _object(reply_to.get("story"))
    plain: Fields = {
        "attachment_types": _attachment_types(attachments),
        "reply_to_message_id": _text(reply_to.get("mid")),
        "reply_to_story_id": _text(story.get("id")),
        "quick_reply_payload": _text(_object(body.get("quick_reply")).get("payload")),
        "is_unsupported": body.get("is_unsupported") is True,
    }
    private: Fields = {
        "text": _text(body.get("text")),
        "attachments": attachments if isinstance(attachments, list) else None,
        "reply_to_story": story or None,
        "referral": body.get("referral"),
    }
    return plain, _present(private)


def _edit(account_id: str, body: Fields, common: Fields) -> Item | None:
    mid = _text(body.get("mid"))
    if mid is None:
        return None
    edits = _integer(body.get("num_edit"))
    plain: Fields = {**common, "message_id": mid, "edit_count": edits}
    private = _present({"text": _text(body.get("text"))})
    return Item(account_id, "edit", f"{mid}:{edits}", plain, private)


def _postback(account_id: str, body: Fields, common: Fields) -> Item | None:
    mid = _text(body.get("mid"))
    if mid is None:
        return None
    plain: Fields = {
        **common,
        "message_id": mid,
        "postback_title": _text(body.get("title")),
        "postback_payload": _text(body.get("payload")),
    }
    return Item(account_id, "postback", mid, plain)


def _reaction(account_id: str, body: Fields, common: Fields) -> Item | None:
    mid = _text(body.get("mid"))
    if mid is None:
        return None
    action = _text(body.get("action")) or "react"
    plain: Fields = {
        **common,
        "message_id": mid,
        "action": action,
        "reaction": _text(body.get("reaction")),
        "emoji": _text(body.get("emoji")),
    }
    # Reacting, unreacting and reacting again are three events of one message.
    key = f"{mid}:{action}:{common['timestamp']}"
    return Item(account_id, "reaction", key, plain)


def _read(account_id: str, body: Fields, common: Fields) -> Item | None:
    mid = _text(body.get("mid"))
    if mid is None:
        return None
    return Item(account_id, "read", mid, {**common, "message_id": mid})


def _unknown(account_id: str, raw: Fields, common: Fields) -> Item:
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"))
    key = hashlib.sha256(canonical.encode()).hexdigest()
    return Item(account_id, "unknown", key, common, {"item": raw})


# Edits, reactions, reads and postbacks first: Meta may add a ``message``
# beside them, and the more specific field says what happened.
_READERS = (
    ("message_edit", _edit),
    ("reaction", _reaction),
    ("read", _read),
    ("postback", _postback),
    ("message", _message),
)


def _attachment_types(attachments: JsonValue) -> list[JsonValue]:
    if not isinstance(attachments, list):
        return []
    return [
        _text(attachment.get("type")) or "unknown"
        for attachment in attachments
        if isinstance(attachment, dict)
    ]


def _present(values: Fields) -> Fields:
    return {name: value for name, value in values.items() if value is not None}


def _object(value: JsonValue) -> Fields:
    return value if isinstance(value, dict) else {}


def _id_of(party: JsonValue) -> str | None:
    return _text(party.get("id")) if isinstance(party, dict) else None


def _text(value: JsonValue) -> str | None:
    return value if isinstance(value, str) and value else None


def _integer(value: JsonValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
