"""Custom properties: the organization's fields, and the contacts' values.

A value is validated against its field's type on every write. Text, email
and phone values can hold personal data: they are sealed with the
organization's data key, bound to the contact and the field, and matched
exactly through a keyed blind index. Numbers, booleans, dates and choices
stay plain. Nothing here knows HTTP or commits.
"""

from __future__ import annotations

import json
import math
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date

from pydantic import EmailStr, JsonValue, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import repository
from services.contacts.errors import (
    ContactNotFound,
    PropertyKeyTaken,
    PropertyNotFound,
    PropertyValueInvalid,
)
from services.contacts.models import PropertyDefinition, PropertyValue
from services.contacts.schemas import PropertyCreate, PropertyRead
from shared.crypto.blind_index import EMAIL, PHONE, IndexKind, normalize_phone
from shared.crypto.data_keys import DataKey

VALUES_TABLE = "contacts.property_values"
VALUE_COLUMN = "value_sealed"
TEXT_MAX_LENGTH = 1000


def _normalize_text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold().strip()


TEXT = IndexKind("text", _normalize_text)
SEALED_KINDS = {"text": TEXT, "email": EMAIL, "phone": PHONE}
_EMAIL = TypeAdapter(EmailStr)


@dataclass(frozen=True)
class PropertyMatch:
    """Contacts whose value of one property equals a value, as stored."""

    property_id: uuid.UUID
    index: bytes | None = None
    plain: JsonValue = None
    contains: bool = False


async def list_definitions(
    session: AsyncSession, org_id: uuid.UUID
) -> list[PropertyRead]:
    rows = await repository.property_definitions(session, org_id)
    return [_read_definition(row) for row in rows]


async def create_definition(
    session: AsyncSession, org_id: uuid.UUID, new: PropertyCreate
) -> PropertyRead:
    """A new property; a key the organization already uses is a conflict."""
    row = await repository.insert_property_definition(
        session,
        org_id,
        key=new.key,
        label=new.label,
        value_type=new.value_type,
        choices=new.choices,
    )
    if row is None:
        raise PropertyKeyTaken()
    return _read_definition(row)


async def delete_definition(
    session: AsyncSession, org_id: uuid.UUID, property_id: uuid.UUID
) -> None:
    """Delete the property and every contact's value of it."""
    if not await repository.delete_property_definition(session, org_id, property_id):
        raise PropertyNotFound()


async def set_value(
    session: AsyncSession,
    data_key: DataKey,
    contact_id: uuid.UUID,
    key: str,
    value: JsonValue,
) -> dict[str, JsonValue]:
    """Validate and store the contact's value (null removes it); all its values."""
    org_id = data_key.org_id
    definition = await _definition(session, org_id, key)
    if await repository.contact(session, org_id, contact_id) is None:
        raise ContactNotFound()

    if value is None:
        await repository.delete_property_value(session, contact_id, definition.id)
    else:
        row = _value_row(data_key, definition, contact_id, validated(definition, value))
        await repository.upsert_property_value(session, row)
    return await values_of(session, data_key, contact_id)


async def values_of(
    session: AsyncSession, data_key: DataKey, contact_id: uuid.UUID
) -> dict[str, JsonValue]:
    """The contact's values by property key, sealed ones opened."""
    rows = await repository.property_values(session, data_key.org_id, contact_id)
    return {definition.key: _opened(data_key, value) for definition, value in rows}


async def match(
    session: AsyncSession, data_key: DataKey, key: str, raw: str
) -> PropertyMatch:
    """What a list filter ``key`` = ``raw`` looks for, as values are stored."""
    definition = await _definition(session, data_key.org_id, key)
    kind = SEALED_KINDS.get(definition.value_type)
    if kind is not None:
        return PropertyMatch(definition.id, index=data_key.blind_index(kind, raw))
    if definition.value_type == "multiple_choice":
        return PropertyMatch(definition.id, plain=[raw], contains=True)
    return PropertyMatch(definition.id, plain=validated(definition, _typed(raw)))


def validated(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    """``value`` as stored for this property; :class:`PropertyValueInvalid` if
    it does not fit the property's type."""
    checked = _CHECKS[definition.value_type](definition, value)
    if checked is None:
        raise PropertyValueInvalid(
            f"This is not a valid value for a {definition.value_type} property."
        )
    return checked


def _check_text(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    if isinstance(value, str) and 0 < len(value.strip()) <= TEXT_MAX_LENGTH:
        return value
    return None


def _check_email(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    try:
        return str(_EMAIL.validate_python(value))
    except ValidationError:
        return None


def _check_phone(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    if not isinstance(value, str):
        return None
    digits = normalize_phone(value).lstrip("+")
    return value.strip() if 6 <= len(digits) <= 15 else None


def _check_number(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _check_boolean(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    return value if isinstance(value, bool) else None


def _check_date(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    try:
        return date.fromisoformat(value).isoformat() if isinstance(value, str) else None
    except ValueError:
        return None


def _check_single(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    return value if isinstance(value, str) and value in definition.choices else None


def _check_multiple(definition: PropertyDefinition, value: JsonValue) -> JsonValue:
    if not isinstance(value, list) or len(set(map(str, value))) != len(value):
        return None
    if not all(isinstance(item, str) and item in definition.choices for item in value):
        return None
    return value


_CHECKS = {
    "text": _check_text,
    "email": _check_email,
    "phone": _check_phone,
    "number": _check_number,
    "boolean": _check_boolean,
    "date": _check_date,
    "single_choice": _check_single,
    "multiple_choice": _check_multiple,
}


def _typed(raw: str) -> JsonValue:
    """A filter's text as the JSON value it spells, else as the text itself."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        return raw
    return parsed if isinstance(parsed, bool | int | float) else raw


def _value_row(
    data_key: DataKey,
    definition: PropertyDefinition,
    contact_id: uuid.UUID,
    value: JsonValue,
) -> PropertyValue:
    row = PropertyValue(
        contact_id=contact_id, property_id=definition.id, org_id=data_key.org_id
    )
    kind = SEALED_KINDS.get(definition.value_type)
    if kind is None:
        row.value_plain = value
        return row
    assert isinstance(value, str), "sealed kinds are validated as text"
    row.value_sealed = data_key.seal(
        value.encode(), table=VALUES_TABLE, column=VALUE_COLUMN, row_id=_cell(row)
    )
    row.value_index = data_key.blind_index(kind, value)
    return row


def _opened(data_key: DataKey, row: PropertyValue) -> JsonValue:
    if row.value_sealed is None:
        value: JsonValue = row.value_plain
        return value
    plaintext = data_key.open(
        row.value_sealed, table=VALUES_TABLE, column=VALUE_COLUMN, row_id=_cell(row)
    )
    return plaintext.decode()


def _cell(row: PropertyValue) -> str:
    # The table's key is two columns: a value is bound to both.
    return f"{row.contact_id}:{row.property_id}"


async def _definition(
    session: AsyncSession, org_id: uuid.UUID, key: str
) -> PropertyDefinition:
    definition = await repository.property_definition(session, org_id, key)
    if definition is None:
        raise PropertyNotFound()
    return definition


def _read_definition(row: PropertyDefinition) -> PropertyRead:
    return PropertyRead.model_validate(row, from_attributes=True)
