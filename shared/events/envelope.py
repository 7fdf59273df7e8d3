"""The envelope every event travels in from one service to another."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Something that happened in one service and that others act on.

    ``type`` is dotted, subject first (``contact.deleted``). The payload is
    plain JSON, so a consumer running older or newer code can still read it;
    unknown envelope fields are ignored for the same reason.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UUID = Field(default_factory=uuid4)
    type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=120)
    org_id: UUID | None = None
    occurred_at: AwareDatetime = Field(default_factory=_now)
    payload: dict[str, JsonValue] = Field(default_factory=dict)

    def to_job(self) -> dict[str, Any]:
        """The envelope as the plain data an arq job carries."""
        return self.model_dump(mode="json")
