"""What the deletion API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from pydantic import BaseModel

from services.deletion.models import DeletionRequest

DeletionState = Literal["none", "scheduled", "cancelled", "purging"]


class DeletionRead(BaseModel):
    """The state of the organization's deletion.

    ``none`` when it was never asked for; ``scheduled`` until ``due_at``;
    ``cancelled`` when an admin stopped it; ``purging`` once the purge has
    started, when it can no longer be stopped.
    """

    state: DeletionState
    due_at: datetime | None = None
    requested_at: datetime | None = None
    cancelled_at: datetime | None = None
    started_at: datetime | None = None

    @classmethod
    def of(cls, request: DeletionRequest | None) -> DeletionRead:
        if request is None:
            return cls(state="none")
        return cls(
            state=cast(DeletionState, request.state),
            due_at=request.due_at,
            requested_at=request.requested_at,
            cancelled_at=request.cancelled_at,
            started_at=request.started_at,
        )
