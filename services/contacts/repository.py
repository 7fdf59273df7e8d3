"""Every query of the contacts service. Queries only: the caller commits.

Each query names the organization even though row-level security already
keeps a session to its own: a forgotten filter then shows as an empty page
in a test, not as a leak in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts.models import (
    Contact,
    ContactTag,
    Conversation,
    Message,
    OptOutChange,
    PropertyDefinition,
    PropertyValue,
    Tag,
)

if TYPE_CHECKING:
    from services.contacts.profiles import GraphProfile
    from services.contacts.properties import PropertyMatch


@dataclass(frozen=True)
class ContactFilters:
    """What a contact list is narrowed to; None means no narrowing.

    ``search`` is a case-blind substring match on username and names. It
    filters the rows the page's index walk meets, so it stays quick while
    matches are common and slows on a rare term in a very large organization.
    A trigram index would make it quick throughout, but the embedded
    PostgreSQL ships without ``pg_trgm``, so it is not used.
    """

    search: str | None = None
    opted_out: bool | None = None
    tag_id: uuid.UUID | None = None
    interacted_after: datetime | None = None
    interacted_before: datetime | None = None
    property_match: PropertyMatch | None = None


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: after the row with this sort value and id."""

    value: datetime
    row_id: uuid.UUID


async def upsert_contact(
    session: AsyncSession, org_id: uuid.UUID, instagram_id: str, seen_at: datetime
) -> Contact:
    """The contact with this Instagram id, made if new, its interaction noted."""
    table = Contact.__table__
    statement = (
        insert(Contact)
        .values(
            id=uuid.uuid4(),
            org_id=org_id,
            instagram_id=instagram_id,
            last_interaction_at=seen_at,
        )
        .on_conflict_do_update(
            index_elements=[table.c.org_id, table.c.instagram_id],
            set_={
                "last_interaction_at": func.greatest(
                    table.c.last_interaction_at, seen_at
                ),
                "updated_at": func.now(),
            },
        )
        .returning(Contact)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def contact(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> Contact | None:
    return await session.scalar(
        select(Contact).where(Contact.org_id == org_id, Contact.id == contact_id)
    )


async def contact_for_update(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> Contact | None:
    """The contact, locked until the transaction ends."""
    return await session.scalar(
        select(Contact)
        .where(Contact.org_id == org_id, Contact.id == contact_id)
        .with_for_update()
    )


async def contacts_page(
    session: AsyncSession,
    org_id: uuid.UUID,
    filters: ContactFilters,
    sort: str,
    after: Keyset | None,
    limit: int,
) -> Sequence[Contact]:
    """One page of contacts in ``sort`` order, starting after ``after``."""
    query = contacts_page_query(org_id, filters, sort, after, limit)
    return (await session.scalars(query)).all()


def contacts_page_query(
    org_id: uuid.UUID,
    filters: ContactFilters,
    sort: str,
    after: Keyset | None,
    limit: int,
) -> Select[Contact]:
    """The query of :func:`contacts_page`: a walk along one of the indexes
    ``contacts_by_*``, however deep the page."""
    column = sort_column(sort)
    descending = sort.startswith("-")
    query = _filtered(select(Contact).where(Contact.org_id == org_id), filters)
    if after is not None:
        position = tuple_(column, Contact.id)
        start = tuple_(after.value, after.row_id)
        query = query.where(position < start if descending else position > start)
    order = (column.desc(), Contact.id.desc()) if descending else (column, Contact.id)
    return query.order_by(*order).limit(limit)


def sort_column(sort: str) -> Any:
    """The column a contact sort orders by."""
    if sort.lstrip("-") == "created_at":
        return Contact.created_at
    return Contact.last_interaction_at


def _filtered(query: Select[Any], filters: ContactFilters) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if filters.search:
        pattern = "%" + _escape_like(filters.search) + "%"
        conditions.append(
            or_(
                Contact.username.ilike(pattern, escape="\\"),
                func.coalesce(Contact.name_override, Contact.name).ilike(
                    pattern, escape="\\"
                ),
            )
        )
    if filters.opted_out is not None:
        conditions.append(Contact.opted_out.is_(filters.opted_out))
    if filters.tag_id is not None:
        conditions.append(
            exists().where(
                ContactTag.contact_id == Contact.id, ContactTag.tag_id == filters.tag_id
            )
        )
    if filters.interacted_after is not None:
        conditions.append(Contact.last_interaction_at >= filters.interacted_after)
    if filters.interacted_before is not None:
        conditions.append(Contact.last_interaction_at < filters.interacted_before)
    if filters.property_match is not None:
        conditions.append(_has_value(filters.property_match))
    return query.where(*conditions)


def _has_value(wanted: PropertyMatch) -> ColumnElement[bool]:
    value = PropertyValue
    if wanted.index is not None:
        found = value.value_index == wanted.index
    elif wanted.contains:
        found = value.value_plain.contains(wanted.plain)
    else:
        found = value.value_plain == type_coerce(wanted.plain, JSONB)
    return exists().where(
        value.contact_id == Contact.id,
        value.property_id == wanted.property_id,
        found,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def save_profile(
    session: AsyncSession,
    org_id: uuid.UUID,
    contact_id: uuid.UUID,
    profile: GraphProfile,
) -> None:
    """Store what Meta said of the contact, and when."""
    await session.execute(
        update(Contact)
        .where(Contact.org_id == org_id, Contact.id == contact_id)
        .values(
            username=profile.username,
            name=profile.name,
            profile_pic_url=profile.profile_pic,
            follower_count=profile.follower_count,
            is_verified=profile.is_verified_user,
            profile_fetched_at=func.now(),
            updated_at=func.now(),
        )
    )


async def upsert_conversation(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID, at: datetime
) -> uuid.UUID:
    """The contact's conversation, made if new, its last message time moved on."""
    table = Conversation.__table__
    statement = (
        insert(Conversation)
        .values(
            id=uuid.uuid4(), org_id=org_id, contact_id=contact_id, last_message_at=at
        )
        .on_conflict_do_update(
            index_elements=[table.c.contact_id],
            set_={"last_message_at": func.greatest(table.c.last_message_at, at)},
        )
        .returning(Conversation.id)
    )
    return (await session.scalars(statement)).one()


async def insert_message(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store a message; False if one with its Instagram id is already here."""
    table = Message.__table__
    statement = (
        insert(Message)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[table.c.org_id, table.c.instagram_message_id]
        )
        .returning(Message.id)
    )
    return await session.scalar(statement) is not None


async def message_by_instagram_id(
    session: AsyncSession, org_id: uuid.UUID, instagram_message_id: str
) -> Message | None:
    return await session.scalar(
        select(Message).where(
            Message.org_id == org_id,
            Message.instagram_message_id == instagram_message_id,
        )
    )


async def messages_page(
    session: AsyncSession,
    org_id: uuid.UUID,
    contact_id: uuid.UUID,
    before: Keyset | None,
    limit: int,
) -> Sequence[Message]:
    """A contact's messages, newest first, starting before ``before``."""
    query = messages_page_query(org_id, contact_id, before, limit)
    return (await session.scalars(query)).all()


def messages_page_query(
    org_id: uuid.UUID, contact_id: uuid.UUID, before: Keyset | None, limit: int
) -> Select[Message]:
    """The query of :func:`messages_page`, along ``messages_by_contact``."""
    query = select(Message).where(
        Message.org_id == org_id, Message.contact_id == contact_id
    )
    if before is not None:
        query = query.where(
            tuple_(Message.sent_at, Message.id) < tuple_(before.value, before.row_id)
        )
    return query.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit)


def add_opt_out_change(session: AsyncSession, change: OptOutChange) -> None:
    session.add(change)


async def opt_out_history(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> Sequence[OptOutChange]:
    """The contact's opt-out changes, newest first."""
    query = (
        select(OptOutChange)
        .where(OptOutChange.org_id == org_id, OptOutChange.contact_id == contact_id)
        .order_by(OptOutChange.created_at.desc(), OptOutChange.id)
    )
    return (await session.scalars(query)).all()


async def tags(session: AsyncSession, org_id: uuid.UUID) -> Sequence[Tag]:
    query = select(Tag).where(Tag.org_id == org_id).order_by(Tag.name)
    return (await session.scalars(query)).all()


async def tag(
    session: AsyncSession, org_id: uuid.UUID, tag_id: uuid.UUID
) -> Tag | None:
    return await session.scalar(
        select(Tag).where(Tag.org_id == org_id, Tag.id == tag_id)
    )


async def insert_tag(session: AsyncSession, org_id: uuid.UUID, name: str) -> Tag | None:
    """A new tag; None if the organization has one with this name."""
    statement = (
        insert(Tag)
        .values(id=uuid.uuid4(), org_id=org_id, name=name)
        .on_conflict_do_nothing(index_elements=[Tag.org_id, Tag.name])
        .returning(Tag)
    )
    return (await session.scalars(statement)).one_or_none()


async def delete_tag(
    session: AsyncSession, org_id: uuid.UUID, tag_id: uuid.UUID
) -> bool:
    deleted = await session.execute(
        delete(Tag).where(Tag.org_id == org_id, Tag.id == tag_id).returning(Tag.id)
    )
    return deleted.first() is not None


async def tags_of(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> Sequence[Tag]:
    query = (
        select(Tag)
        .join(ContactTag, ContactTag.tag_id == Tag.id)
        .where(ContactTag.org_id == org_id, ContactTag.contact_id == contact_id)
        .order_by(Tag.name)
    )
    return (await session.scalars(query)).all()


async def attach_tag(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID, tag_id: uuid.UUID
) -> None:
    await session.execute(
        insert(ContactTag)
        .values(org_id=org_id, contact_id=contact_id, tag_id=tag_id)
        .on_conflict_do_nothing()
    )


async def detach_tag(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID, tag_id: uuid.UUID
) -> None:
    await session.execute(
        delete(ContactTag).where(
            ContactTag.org_id == org_id,
            ContactTag.contact_id == contact_id,
            ContactTag.tag_id == tag_id,
        )
    )


async def property_definitions(
    session: AsyncSession, org_id: uuid.UUID
) -> Sequence[PropertyDefinition]:
    query = (
        select(PropertyDefinition)
        .where(PropertyDefinition.org_id == org_id)
        .order_by(PropertyDefinition.key)
    )
    return (await session.scalars(query)).all()


async def property_definition(
    session: AsyncSession, org_id: uuid.UUID, key: str
) -> PropertyDefinition | None:
    return await session.scalar(
        select(PropertyDefinition).where(
            PropertyDefinition.org_id == org_id, PropertyDefinition.key == key
        )
    )


async def insert_property_definition(
    session: AsyncSession, org_id: uuid.UUID, **values: Any
) -> PropertyDefinition | None:
    """A new property; None if the organization has one with this key."""
    statement = (
        insert(PropertyDefinition)
        .values(id=uuid.uuid4(), org_id=org_id, **values)
        .on_conflict_do_nothing(
            index_elements=[PropertyDefinition.org_id, PropertyDefinition.key]
        )
        .returning(PropertyDefinition)
    )
    return (await session.scalars(statement)).one_or_none()


async def delete_property_definition(
    session: AsyncSession, org_id: uuid.UUID, property_id: uuid.UUID
) -> bool:
    table = PropertyDefinition
    deleted = await session.execute(
        delete(table)
        .where(table.org_id == org_id, table.id == property_id)
        .returning(table.id)
    )
    return deleted.first() is not None


async def property_values(
    session: AsyncSession, org_id: uuid.UUID, contact_id: uuid.UUID
) -> Sequence[tuple[PropertyDefinition, PropertyValue]]:
    query = (
        select(PropertyDefinition, PropertyValue)
        .join(PropertyValue, PropertyValue.property_id == PropertyDefinition.id)
        .where(PropertyValue.org_id == org_id, PropertyValue.contact_id == contact_id)
        .order_by(PropertyDefinition.key)
    )
    return [(row[0], row[1]) for row in await session.execute(query)]


async def upsert_property_value(session: AsyncSession, row: PropertyValue) -> None:
    values = {
        "value_sealed": row.value_sealed,
        "value_index": row.value_index,
        "value_plain": row.value_plain,
    }
    await session.execute(
        insert(PropertyValue)
        .values(
            contact_id=row.contact_id,
            property_id=row.property_id,
            org_id=row.org_id,
            **values,
        )
        .on_conflict_do_update(
            index_elements=[PropertyValue.contact_id, PropertyValue.property_id],
            set_={**values, "updated_at": func.now()},
        )
    )


async def delete_property_value(
    session: AsyncSession, contact_id: uuid.UUID, property_id: uuid.UUID
) -> None:
    await session.execute(
        delete(PropertyValue).where(
            PropertyValue.contact_id == contact_id,
            PropertyValue.property_id == property_id,
        )
    )
