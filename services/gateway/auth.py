"""Who is calling the gateway.

A caller reaches an organization's data only as a signed-in member of that
organization. Sign-in (accounts, sessions, API tokens) is not built yet, so
no caller can be a member and every organization path answers 401; the
dependency below is where sign-in will plug in.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict

from shared.errors import NotAuthenticated
from shared.identity import Role


class Member(BaseModel):
    """A signed-in user acting within one organization."""

    model_config = ConfigDict(frozen=True)

    user_id: UUID
    org_id: UUID
    role: Role


async def current_member(org_id: UUID, request: Request) -> Member:
    """The signed-in member of ``org_id`` making this request."""
    raise NotAuthenticated()


CurrentMember = Annotated[Member, Depends(current_member)]
