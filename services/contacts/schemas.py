"""What the contacts API reads and writes, and what its events carry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

ContactSort = Literal[
    "-last_interaction_at", "last_interaction_at", "-created_at", "created_at"
]
Direction = Literal["in", "out"]
SenderKind = Literal["contact", "person", "scenario", "campaign", "ai"]
OptOutMethod = Literal["keyword", "manual", "api", "import"]
# Meta's names for the ids of a messaging item, should the gateway keep them.
_META_NAMES = {"sender_id": "sender", "recipient_id": "recipient", "message_id": "mid"}


class InboundItem(BaseModel):
    """One messaging item of ``instagram.message_received``, as far as we use it.

    It is read leniently: the gateway may add fields, name ids as Meta does
    (``mid``, ``sender``), and send Meta's millisecond timestamps.
    """

    model_config = ConfigDict(extra="ignore")

    kind: str = "unknown"
    sender_id: str | None = None
    recipient_id: str | None = None
    message_id: str | None = None
    timestamp: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _meta_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        renamed = dict(data)
        for ours, metas in _META_NAMES.items():
            if ours not in renamed and metas in renamed:
                renamed[ours] = renamed[metas]
        return renamed

    @field_validator("sender_id", "recipient_id", "message_id", mode="before")
    @classmethod
    def _plain_id(cls, value: object) -> object:
        if isinstance(value, dict):
            return value.get("id")
        return str(value) if isinstance(value, int) else value

    @field_validator("timestamp", mode="before")
    @classmethod
    def _milliseconds(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 10**11 else value
            return datetime.fromtimestamp(seconds, UTC)
        return value

    @property
    def contact_instagram_id(self) -> str | None:
        """The contact's id: the recipient of an echo, else the sender."""
        return self.recipient_id if self.kind == "echo" else self.sender_id


class TagCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        trimmed = value.strip()
        if not trimmed:
            raise ValueError("a tag name needs more than spaces")
        return trimmed


class TagRead(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class ContactUpdate(BaseModel):
    """A change by hand: a name of the organization's own, or the opt-out state.

    ``name`` set to null goes back to the name on Instagram.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    opted_out: bool | None = None


class OptOutChangeRead(BaseModel):
    opted_out: bool
    method: OptOutMethod
    by_user_id: uuid.UUID | None
    message_id: uuid.UUID | None
    created_at: datetime


class ContactRead(BaseModel):
    id: uuid.UUID
    instagram_id: str
    username: str | None
    name: str | None
    instagram_name: str | None
    profile_pic_url: str | None
    follower_count: int | None
    is_verified: bool | None
    profile_fetched_at: datetime | None
    opted_out: bool
    opted_out_at: datetime | None
    last_interaction_at: datetime
    created_at: datetime


class ContactProfile(ContactRead):
    tags: list[TagRead]
    opt_out_history: list[OptOutChangeRead]
    properties: dict[str, JsonValue]


class ContactPage(BaseModel):
    items: list[ContactRead]
    next_cursor: str | None


class MessageRead(BaseModel):
    id: uuid.UUID
    direction: Direction
    sender_kind: SenderKind
    kind: str
    text: str | None
    sent_at: datetime
    edited_at: datetime | None
    unsent_at: datetime | None


class MessagePage(BaseModel):
    items: list[MessageRead]
    next_cursor: str | None


PropertyType = Literal[
    "text",
    "number",
    "boolean",
    "date",
    "email",
    "phone",
    "single_choice",
    "multiple_choice",
]
CHOICE_TYPES = ("single_choice", "multiple_choice")


class PropertyCreate(BaseModel):
    """A custom field: ``key`` names it in the API, ``label`` for people."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")
    label: str = Field(min_length=1, max_length=100)
    value_type: PropertyType
    choices: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100
    )

    @model_validator(mode="after")
    def _choices_fit_the_type(self) -> PropertyCreate:
        if self.value_type in CHOICE_TYPES and not self.choices:
            raise ValueError("a choice property needs its choices")
        if self.value_type not in CHOICE_TYPES and self.choices:
            raise ValueError("only choice properties have choices")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError("choices must differ from each other")
        return self


class PropertyRead(BaseModel):
    id: uuid.UUID
    key: str
    label: str
    value_type: PropertyType
    choices: list[str]
    created_at: datetime


class PropertyValueWrite(BaseModel):
    """The contact's new value; null removes it."""

    model_config = ConfigDict(extra="forbid")

    value: JsonValue


class MessageCreate(BaseModel):
    """A reply a team member types.

    ``id`` makes the request safe to repeat: a message already asked for with
    this id is not sent again. ``split`` cuts a text over Meta's 1,000 bytes
    into parts at sentence boundaries instead of refusing it.
    """

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    split: bool = False
    id: uuid.UUID | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a message needs more than spaces")
        return value


class SentPart(BaseModel):
    """One part of a message Meta took: our id and Meta's."""

    id: uuid.UUID
    instagram_message_id: str
    tag: str | None


class MessageSent(BaseModel):
    items: list[SentPart]
