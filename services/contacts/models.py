"""Tables of the contacts service, all in its own ``contacts`` schema.

Every table here but the system tables carries ``org_id`` and sits under
row-level security. Message text is sealed with the organization's data key,
bound to its row; usernames and names stay plain so that they can be searched.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.tables import add_system_tables

TENANT_TABLES = (
    "contacts",
    "conversations",
    "messages",
    "tags",
    "contact_tags",
    "opt_out_changes",
    "property_definitions",
    "property_values",
    "sends",
)
DIRECTIONS = ("in", "out")
SENDER_KINDS = ("contact", "person", "scenario", "campaign", "ai")
OPT_OUT_METHODS = ("keyword", "manual", "api", "import")
SEND_STATES = ("sending", "sent", "refused", "failed", "unconfirmed")
PROPERTY_TYPES = (
    "text",
    "number",
    "boolean",
    "date",
    "email",
    "phone",
    "single_choice",
    "multiple_choice",
)


class Base(DeclarativeBase):
    metadata = MetaData(schema="contacts")


SYSTEM_TABLES = add_system_tables(Base.metadata)


def _now() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(value) for value in values)})"


class Contact(Base):
    """A person who wrote to the organization's Instagram account."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("org_id", "instagram_id"),
        # Keyset pages walk these in either direction.
        Index("contacts_by_last_interaction", "org_id", "last_interaction_at", "id"),
        Index("contacts_by_created", "org_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column()
    instagram_id: Mapped[str] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    name_override: Mapped[str | None] = mapped_column(Text)
    profile_pic_url: Mapped[str | None] = mapped_column(Text)
    follower_count: Mapped[int | None] = mapped_column(Integer)
    is_verified: Mapped[bool | None] = mapped_column(Boolean)
    profile_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out: Mapped[bool] = mapped_column(Boolean, server_default="false")
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_interaction_at: Mapped[datetime] = _now()
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Conversation(Base):
    """The one direct-message thread between the account and a contact."""

    __tablename__ = "conversations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column()
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    last_message_at: Mapped[datetime] = _now()
    # Set when a person replies or the conversation is handed over to one:
    # automated senders then stay out of it.
    taken_over_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    taken_over_by_user_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = _now()


class Message(Base):
    """One message of a conversation, its text sealed with the data key."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("org_id", "instagram_message_id"),
        CheckConstraint(_one_of("direction", DIRECTIONS), name="messages_direction"),
        CheckConstraint(
            _one_of("sender_kind", SENDER_KINDS), name="messages_sender_kind"
        ),
        Index("messages_by_time", "conversation_id", "sent_at", "id"),
        # A contact's history is read a page at a time, newest first.
        Index("messages_by_contact", "contact_id", "sent_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column()
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE")
    )
    instagram_message_id: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)
    sender_kind: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class Tag(Base):
    """A label the organization puts on contacts."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class ContactTag(Base):
    __tablename__ = "contact_tags"

    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = _now()


class OptOutChange(Base):
    """One change of a contact's opt-out state: when, which way, how, by whom."""

    __tablename__ = "opt_out_changes"
    __table_args__ = (
        CheckConstraint(
            _one_of("method", OPT_OUT_METHODS), name="opt_out_changes_method"
        ),
        Index("opt_out_changes_by_contact", "contact_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column()
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE")
    )
    opted_out: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[uuid.UUID | None] = mapped_column()
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = _now()


class PropertyDefinition(Base):
    """A custom field the organization keeps on its contacts."""

    __tablename__ = "property_definitions"
    __table_args__ = (
        UniqueConstraint("org_id", "key"),
        CheckConstraint(
            _one_of("value_type", PROPERTY_TYPES), name="property_definitions_type"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column()
    key: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    value_type: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")
    created_at: Mapped[datetime] = _now()


class PropertyValue(Base):
    """A contact's value of a custom field.

    Text, email and phone values can be personal data: they are sealed with
    the organization's data key, bound to the contact and the field, and
    found by exact match through ``value_index``. Numbers, booleans, dates
    and choices stay plain in ``value_plain``.
    """

    __tablename__ = "property_values"
    __table_args__ = (Index("property_values_by_index", "property_id", "value_index"),)

    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    property_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("property_definitions.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[uuid.UUID] = mapped_column()
    value_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    value_index: Mapped[bytes | None] = mapped_column(LargeBinary)
    value_plain: Mapped[Any | None] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = _now()


class Send(Base):
    """One outbound message asked of the send path, and what became of it.

    Its id is the message's own and the idempotency key of the send: the row
    is written before Meta is called and marked after, so a send asked again
    never reaches Meta twice. The text is kept only in the message a
    successful send stores; a refused or failed send keeps its reason.
    """

    __tablename__ = "sends"
    __table_args__ = (
        CheckConstraint(_one_of("state", SEND_STATES), name="sends_state"),
        CheckConstraint(_one_of("sender_kind", SENDER_KINDS), name="sends_sender_kind"),
        Index("sends_by_contact", "contact_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column()
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE")
    )
    sender_kind: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[uuid.UUID | None] = mapped_column()
    state: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    tag: Mapped[str | None] = mapped_column(Text)
    meta_error_code: Mapped[int | None] = mapped_column(Integer)
    instagram_message_id: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
