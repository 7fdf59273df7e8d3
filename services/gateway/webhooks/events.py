"""The ``instagram.message_received`` event, with what a person wrote sealed.

Outbox rows and arq jobs in Redis are not encrypted, so the payload carries
in the clear only ids, times, the ``kind`` and the small fields each kind
needs (see :mod:`.parsing`). What a person wrote or sent (``text``,
``attachments`` with their URLs, ``reply_to_story``, ``referral``, and the
whole item of kind ``unknown``) travels under ``sealed``: each value is the
UTF-8 JSON of the field, sealed with the master key ring and bound to the
event, then base64-encoded. Postback titles and payloads and quick-reply
payloads stay plain: they are the business's own buttons, which scenarios
match on; so does a reaction's emoji. A consumer opens a sealed field with::

    raw = base64.b64decode(event.payload["sealed"]["text"])
    text = json.loads(open_sealed(
        runtime.secrets.master_keys, raw,
        table="event", column="text", row_id=event.id,
    ))

Master key rotation does not re-seal events: drop an old master key only
once every event sealed with it has been handled.
"""

from __future__ import annotations

import base64
import json
from uuid import UUID

from pydantic import JsonValue

from services.gateway.webhooks.parsing import Fields, Item
from shared.crypto.cipher import seal
from shared.crypto.keyring import KeyRing
from shared.events import Event

MESSAGE_RECEIVED = "instagram.message_received"
SEALED_TABLE = "event"


def message_received(
    ring: KeyRing, item: Item, *, org_id: UUID, event_id: UUID, delivery_id: UUID
) -> Event:
    """The event that tells contacts about ``item``."""
    payload: Fields = {
        "kind": item.kind,
        "instagram_account_id": item.account_id,
        "delivery_id": str(delivery_id),
        **item.plain,
        "sealed": seal_fields(ring, item.private, event_id),
    }
    return Event(id=event_id, type=MESSAGE_RECEIVED, org_id=org_id, payload=payload)


def seal_fields(ring: KeyRing, values: Fields, event_id: UUID) -> Fields:
    """Each value as its JSON, sealed for ``event_id``, in base64."""
    return {name: _seal(ring, name, value, event_id) for name, value in values.items()}


def _seal(ring: KeyRing, name: str, value: JsonValue, event_id: UUID) -> str:
    plaintext = json.dumps(value, ensure_ascii=False).encode()
    sealed = seal(ring, plaintext, table=SEALED_TABLE, column=name, row_id=event_id)
    return base64.b64encode(sealed).decode("ascii")
