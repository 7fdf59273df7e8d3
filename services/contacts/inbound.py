"""Filing what Instagram delivered: contact, conversation, message, opt-out.

The gateway emits ``instagram.message_received`` once per messaging item of a
webhook delivery, its personal fields under ``sealed``: each the base64 of
its JSON, sealed with the master key and bound to the event (see
``services.gateway.webhooks.events``). Here each item becomes, in the
consumer's one transaction: the contact (made or touched), the message stored
once by its Instagram id with its text sealed under the organization's data
key, the opt-out state a keyword asks for, a profile refresh when the profile
is stale, and ``conversation.message_received`` in the outbox for the AI agent.
An echo of a reply a person typed in the Instagram app takes the conversation
over, as a reply through our API does; an echo of what the send path sent is
already stored under its id and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import SPEC, repository, service
from services.contacts.models import Contact, Message
from services.contacts.optout import classify
from services.contacts.profiles import schedule_refresh
from services.contacts.schemas import InboundItem
from services.contacts.sending.repository import take_over
from services.contacts.settings import contacts_settings
from services.events import publish
from shared.crypto.cipher import open_sealed
from shared.crypto.data_keys import get_or_create_data_key
from shared.crypto.errors import CryptoError
from shared.crypto.keyring import KeyRing
from shared.events import Event
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

MESSAGE_STORED = "conversation.message_received"
# The gateway seals personal fields under this table name, bound to the event.
SEALED_TABLE = "event"
# Kinds stored as messages: which way they went and who sent them. Our send
# path stores what it sent under Meta's message id before Meta echoes it, so
# an echo with a new id is a reply a person typed in the Instagram app.
_STORED_KINDS = {
    "message": ("in", "contact"),
    "postback": ("in", "contact"),
    "echo": ("out", "person"),
}


@dataclass(frozen=True)
class Inbound:
    """One messaging item, its text opened, for one organization."""

    org_id: uuid.UUID
    item: InboundItem
    text: str | None
    at: datetime


async def handle(session: AsyncSession, runtime: Runtime, event: Event) -> None:
    """File one ``instagram.message_received`` event; see the module text."""
    inbound = read_inbound(event, runtime.secrets.master_keys)
    instagram_id = inbound.item.contact_instagram_id if inbound else None
    if inbound is None or instagram_id is None:
        log.info("inbound.ignored", reason="no organization or no contact")
        return

    contact = await repository.upsert_contact(
        session, inbound.org_id, instagram_id, inbound.at
    )
    await _file(session, runtime, contact, inbound)
    await schedule_refresh(session, contact, _profile_max_age(runtime))


def read_inbound(event: Event, master_keys: KeyRing) -> Inbound | None:
    """The item the event carries; None if it belongs to no organization or
    cannot be read."""
    if event.org_id is None:
        return None
    try:
        item = InboundItem.model_validate(event.payload)
    except ValidationError:
        # Handling it again would fail again: it is dropped, and said so.
        log.warning("inbound.unreadable")
        return None
    return Inbound(
        org_id=event.org_id,
        item=item,
        text=_opened_text(event, master_keys),
        at=item.timestamp or event.occurred_at,
    )


async def _file(
    session: AsyncSession, runtime: Runtime, contact: Contact, inbound: Inbound
) -> None:
    kind = inbound.item.kind
    if kind in _STORED_KINDS:
        await _store_message(session, runtime, contact, inbound)
    elif kind == "unsend":
        await _unsend(session, inbound)
    elif kind == "edit":
        await _edit(session, runtime, inbound)
    else:
        log.info("inbound.noted", kind=kind)


async def _store_message(
    session: AsyncSession, runtime: Runtime, contact: Contact, inbound: Inbound
) -> None:
    if inbound.item.message_id is None:
        log.info("inbound.ignored", reason="message without an id")
        return

    direction, sender_kind = _STORED_KINDS[inbound.item.kind]
    message_id = uuid.uuid4()
    conversation_id = await repository.upsert_conversation(
        session, inbound.org_id, contact.id, inbound.at
    )
    stored = await repository.insert_message(
        session,
        {
            "id": message_id,
            "org_id": inbound.org_id,
            "conversation_id": conversation_id,
            "contact_id": contact.id,
            "instagram_message_id": inbound.item.message_id,
            "direction": direction,
            "sender_kind": sender_kind,
            "kind": inbound.item.kind,
            "text_sealed": await _sealed_text(session, runtime, inbound, message_id),
            "sent_at": inbound.at,
        },
    )
    if not stored:
        log.info("inbound.duplicate_message", kind=inbound.item.kind)
        return

    if inbound.item.kind == "echo":
        await take_over(session, inbound.org_id, contact.id, None, inbound.at)
    opt_change = _apply_opt_out(session, contact, inbound, message_id)
    await _announce(session, contact, inbound, message_id, conversation_id, opt_change)


def _apply_opt_out(
    session: AsyncSession, contact: Contact, inbound: Inbound, message_id: uuid.UUID
) -> str | None:
    """What the contact's own text asks for, applied; None if nothing changed."""
    if inbound.item.kind != "message" or not inbound.text:
        return None

    wish = classify(inbound.text)
    if wish is None:
        return None
    changed = service.set_opt_out(
        session, contact, wish == "opt_out", "keyword", message_id=message_id
    )
    return wish if changed else None


async def _announce(
    session: AsyncSession,
    contact: Contact,
    inbound: Inbound,
    message_id: uuid.UUID,
    conversation_id: uuid.UUID,
    opt_change: str | None,
) -> None:
    # Ids and states only: the AI agent reads the text from us when it must.
    direction, sender_kind = _STORED_KINDS[inbound.item.kind]
    event = Event(
        type=MESSAGE_STORED,
        org_id=inbound.org_id,
        payload={
            "contact_id": str(contact.id),
            "conversation_id": str(conversation_id),
            "message_id": str(message_id),
            "direction": direction,
            "sender_kind": sender_kind,
            "kind": inbound.item.kind,
            "has_text": inbound.text is not None,
            "opted_out": contact.opted_out,
            "opt_out_change": opt_change,
            "sent_at": inbound.at.isoformat(),
        },
    )
    await publish(session, event, source=SPEC)


async def _unsend(session: AsyncSession, inbound: Inbound) -> None:
    """The contact took the message back: its text goes, the fact stays.

    Events may arrive out of order, and an unsend or edit that comes before
    its message finds nothing and is dropped: the message is then kept as
    first sent. Keeping such early arrivals until their message comes is
    not built.
    """
    message = await _known_message(session, inbound)
    if message is None:
        return
    message.text_sealed = None
    message.unsent_at = inbound.at


async def _edit(session: AsyncSession, runtime: Runtime, inbound: Inbound) -> None:
    message = await _known_message(session, inbound)
    if message is None or inbound.text is None:
        return
    message.text_sealed = await _sealed_text(session, runtime, inbound, message.id)
    message.edited_at = inbound.at


async def _known_message(session: AsyncSession, inbound: Inbound) -> Message | None:
    if inbound.item.message_id is None:
        return None
    found = await repository.message_by_instagram_id(
        session, inbound.org_id, inbound.item.message_id
    )
    if found is None:
        log.info("inbound.unknown_message", kind=inbound.item.kind)
    return found


async def _sealed_text(
    session: AsyncSession, runtime: Runtime, inbound: Inbound, message_id: uuid.UUID
) -> bytes | None:
    if inbound.text is None:
        return None
    data_key = await get_or_create_data_key(
        session, SPEC.schema, inbound.org_id, runtime.secrets.master_keys
    )
    return service.seal_message_text(data_key, inbound.text, message_id)


def _opened_text(event: Event, master_keys: KeyRing) -> str | None:
    """The item's text, opened from the gateway's seal; None if it has none.

    A postback's text is its button title, which travels in the clear. A
    text that does not open is left out rather than failing the event: a
    redelivery would not open it either, and the message itself still counts.
    """
    title = event.payload.get("postback_title")
    if event.payload.get("kind") == "postback" and isinstance(title, str):
        return title
    sealed = event.payload.get("sealed")
    value = sealed.get("text") if isinstance(sealed, dict) else None
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
        opened = open_sealed(
            master_keys, raw, table=SEALED_TABLE, column="text", row_id=event.id
        )
        text = json.loads(opened)
    except (CryptoError, binascii.Error, ValueError):
        log.warning("inbound.text_unreadable")
        return None
    return text if isinstance(text, str) else None


def _profile_max_age(runtime: Runtime) -> timedelta:
    return timedelta(hours=contacts_settings(runtime).profile_max_age_hours)
