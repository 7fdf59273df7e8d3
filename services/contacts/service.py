"""Contacts, their tags, opt-out state and conversations: the decisions.

Nothing here knows HTTP or commits; routes and event handlers do.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime

import structlog
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import properties, repository
from services.contacts.errors import (
    ContactNotFound,
    InvalidCursor,
    TagNameTaken,
    TagNotFound,
)
from services.contacts.models import Contact, Message, OptOutChange, Tag
from services.contacts.repository import ContactFilters, Keyset
from services.contacts.schemas import (
    ContactPage,
    ContactProfile,
    ContactRead,
    ContactSort,
    ContactUpdate,
    MessagePage,
    MessageRead,
    OptOutChangeRead,
    OptOutMethod,
    TagRead,
)
from shared.crypto.data_keys import DataKey

log = structlog.get_logger(__name__)

MESSAGES_TABLE = "contacts.messages"
TEXT_COLUMN = "text_sealed"
_CURSOR_FIELDS = TypeAdapter(tuple[str, datetime, uuid.UUID])


def seal_message_text(data_key: DataKey, text: str, message_id: uuid.UUID) -> bytes:
    """``text`` sealed for the message's own row."""
    return data_key.seal(
        text.encode(), table=MESSAGES_TABLE, column=TEXT_COLUMN, row_id=message_id
    )


def open_message_text(data_key: DataKey, message: Message) -> str | None:
    if message.text_sealed is None:
        return None
    plaintext = data_key.open(
        message.text_sealed, table=MESSAGES_TABLE, column=TEXT_COLUMN, row_id=message.id
    )
    return plaintext.decode()


def encode_cursor(label: str, value: datetime, row_id: uuid.UUID) -> str:
    """An opaque cursor: the list it belongs to and the last row's position."""
    raw = json.dumps([label, value.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, label: str) -> Keyset | None:
    """The position in ``cursor``; :class:`InvalidCursor` if it is not ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, value, row_id = _CURSOR_FIELDS.validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidCursor() from None
    if found != label or value.tzinfo is None:
        raise InvalidCursor()
    return Keyset(value=value, row_id=row_id)


def read_contact(row: Contact) -> ContactRead:
    return ContactRead(
        id=row.id,
        instagram_id=row.instagram_id,
        username=row.username,
        name=row.name_override or row.name,
        instagram_name=row.name,
        profile_pic_url=row.profile_pic_url,
        follower_count=row.follower_count,
        is_verified=row.is_verified,
        profile_fetched_at=row.profile_fetched_at,
        opted_out=row.opted_out,
        opted_out_at=row.opted_out_at,
        last_interaction_at=row.last_interaction_at,
        created_at=row.created_at,
    )


async def list_contacts(
    session: AsyncSession,
    org_id: uuid.UUID,
    filters: ContactFilters,
    sort: ContactSort,
    cursor: str | None,
    limit: int,
) -> ContactPage:
    """One page of the organization's contacts and the cursor of the next."""
    after = decode_cursor(cursor, f"contacts{sort}")
    rows = await repository.contacts_page(
        session, org_id, filters, sort, after, limit + 1
    )

    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        value = getattr(last, repository.sort_column(sort).key)
        next_cursor = encode_cursor(f"contacts{sort}", value, last.id)
    return ContactPage(
        items=[read_contact(row) for row in rows[:limit]], next_cursor=next_cursor
    )


async def profile(
    session: AsyncSession, data_key: DataKey, contact_id: uuid.UUID
) -> ContactProfile:
    """The contact with its tags, custom properties and opt-out history."""
    org_id = data_key.org_id
    row = await _existing_contact(session, org_id, contact_id)
    tags = await repository.tags_of(session, org_id, contact_id)
    history = await repository.opt_out_history(session, org_id, contact_id)
    return ContactProfile(
        **read_contact(row).model_dump(),
        tags=[_read_tag(tag) for tag in tags],
        opt_out_history=[_read_change(change) for change in history],
        properties=await properties.values_of(session, data_key, contact_id),
    )


async def update_contact(
    session: AsyncSession,
    data_key: DataKey,
    contact_id: uuid.UUID,
    change: ContactUpdate,
    by_user_id: uuid.UUID | None,
) -> ContactProfile:
    """Apply a change made by a person, or by a program with the API token."""
    row = await repository.contact_for_update(session, data_key.org_id, contact_id)
    if row is None:
        raise ContactNotFound()

    if "name" in change.model_fields_set:
        row.name_override = change.name
        row.updated_at = datetime.now(UTC)
    if change.opted_out is not None:
        method: OptOutMethod = "manual" if by_user_id else "api"
        set_opt_out(session, row, change.opted_out, method, by_user_id=by_user_id)
    await session.flush()
    return await profile(session, data_key, contact_id)


def set_opt_out(
    session: AsyncSession,
    row: Contact,
    opted_out: bool,
    method: OptOutMethod,
    *,
    by_user_id: uuid.UUID | None = None,
    message_id: uuid.UUID | None = None,
) -> bool:
    """Move the contact to ``opted_out`` and record how; False if already there."""
    if row.opted_out == opted_out:
        return False

    now = datetime.now(UTC)
    row.opted_out = opted_out
    row.opted_out_at = now if opted_out else None
    row.updated_at = now
    change = OptOutChange(
        id=uuid.uuid4(),
        org_id=row.org_id,
        contact_id=row.id,
        opted_out=opted_out,
        method=method,
        by_user_id=by_user_id,
        message_id=message_id,
        created_at=now,
    )
    repository.add_opt_out_change(session, change)
    log.info("contact.opt_out_changed", opted_out=opted_out, method=method)
    return True


async def conversation(
    session: AsyncSession,
    data_key: DataKey,
    org_id: uuid.UUID,
    contact_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> MessagePage:
    """A page of the contact's messages, newest first, their text opened."""
    await _existing_contact(session, org_id, contact_id)
    before = decode_cursor(cursor, "messages")
    rows = await repository.messages_page(
        session, org_id, contact_id, before, limit + 1
    )

    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor("messages", last.sent_at, last.id)
    items = [_read_message(data_key, row) for row in rows[:limit]]
    return MessagePage(items=items, next_cursor=next_cursor)


async def list_tags(session: AsyncSession, org_id: uuid.UUID) -> list[TagRead]:
    return [_read_tag(tag) for tag in await repository.tags(session, org_id)]


async def create_tag(session: AsyncSession, org_id: uuid.UUID, name: str) -> TagRead:
    """A new tag; a name the organization already uses is a conflict."""
    tag = await repository.insert_tag(session, org_id, name)
    if tag is None:
        raise TagNameTaken()
    return _read_tag(tag)


async def delete_tag(
    session: AsyncSession, org_id: uuid.UUID, tag_id: uuid.UUID
) -> None:
    """Delete the tag; it goes from every contact that had it."""
    if not await repository.delete_tag(session, org_id, tag_id):
        raise TagNotFound()


async def tag_contact(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID, tag_id: uuid.UUID
) -> list[TagRead]:
    """Put the tag on the contact (again changes nothing); the contact's tags."""
    await _existing_contact(session, org_id, contact_id)
    if await repository.tag(session, org_id, tag_id) is None:
        raise TagNotFound()

    await repository.attach_tag(session, org_id, contact_id, tag_id)
    return await _contact_tags(session, org_id, contact_id)


async def untag_contact(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID, tag_id: uuid.UUID
) -> list[TagRead]:
    """Take the tag off the contact; the contact's tags."""
    await _existing_contact(session, org_id, contact_id)
    if await repository.tag(session, org_id, tag_id) is None:
        raise TagNotFound()

    await repository.detach_tag(session, org_id, contact_id, tag_id)
    return await _contact_tags(session, org_id, contact_id)


async def _contact_tags(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> list[TagRead]:
    return [
        _read_tag(tag) for tag in await repository.tags_of(session, org_id, contact_id)
    ]


async def _existing_contact(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> Contact:
    row = await repository.contact(session, org_id, contact_id)
    if row is None:
        raise ContactNotFound()
    return row


def _read_tag(tag: Tag) -> TagRead:
    return TagRead(id=tag.id, name=tag.name, created_at=tag.created_at)


def _read_change(change: OptOutChange) -> OptOutChangeRead:
    return OptOutChangeRead.model_validate(change, from_attributes=True)


def _read_message(data_key: DataKey, row: Message) -> MessageRead:
    return MessageRead.model_validate(
        {
            "id": row.id,
            "direction": row.direction,
            "sender_kind": row.sender_kind,
            "kind": row.kind,
            "text": open_message_text(data_key, row),
            "sent_at": row.sent_at,
            "edited_at": row.edited_at,
            "unsent_at": row.unsent_at,
        }
    )
