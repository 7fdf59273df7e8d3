"""Request and response bodies of the organizations API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, SecretStr

from shared.identity import Role

Provider = Literal["instagram", "stripe", "shopify", "calendly"]
ConnectableProvider = Literal["stripe", "shopify", "calendly"]
"""Providers connected by pasting a token; Instagram connects through Meta."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstagramConnectionCreate(_Body):
    """What Facebook Login for Business handed the front-end."""

    code: str = Field(min_length=1, max_length=2048)
    redirect_uri: str = Field(min_length=1, max_length=2048)
    instagram_account_id: str | None = Field(
        None,
        max_length=64,
        description="Which account to connect, when several were shared.",
    )


class OrganizationRead(BaseModel):
    id: uuid.UUID
    name: str
    instagram_account_id: str
    instagram_username: str
    require_two_factor: bool
    role: Role = Field(description="The caller's role in this organization.")
    created_at: datetime


class OrganizationUpdate(_Body):
    name: str | None = Field(None, min_length=1, max_length=200)
    require_two_factor: bool | None = None


class MemberRead(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str
    role: Role
    two_factor_enabled: bool
    joined_at: datetime


class MemberUpdate(_Body):
    role: Role


class InvitationCreate(_Body):
    email: EmailStr
    role: Role = "member"


class InvitationRead(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    invited_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime


class InvitationLinkRead(InvitationRead):
    """The invitation and, this once, the link that accepts it."""

    accept_url: str = Field(
        description=(
            "Send this link to the person invited; it is not shown again. "
            "Its fragment carries the token for POST /api/invitations/accept."
        )
    )


class MembershipCreate(_Body):
    """Joining an organization with the token of an invitation."""

    token: str = Field(min_length=1, max_length=200)


class ApiTokenSecretRead(BaseModel):
    """The new API token, shown this once: store it now."""

    token: str
    created_at: datetime


class ApiTokenRead(BaseModel):
    exists: bool
    created_at: datetime | None = None
    created_by: uuid.UUID | None = None


class IntegrationRead(BaseModel):
    provider: Provider
    connected: bool
    external_account_id: str | None = None
    connected_at: datetime | None = None


class IntegrationUpdate(_Body):
    access_token: SecretStr = Field(min_length=1, max_length=4096)
    external_account_id: str = Field("", max_length=256)


class BillingProfileRead(BaseModel):
    name: str = ""
    address: str = ""
    tax_id: str = ""
    stripe_customer_id: str | None = None
    updated_at: datetime | None = None


class BillingProfileUpdate(_Body):
    name: str = Field("", max_length=200)
    address: str = Field("", max_length=1000)
    tax_id: str = Field("", max_length=64)
    stripe_customer_id: str | None = Field(
        None, max_length=255, pattern=r"^cus_[A-Za-z0-9]+$"
    )


class AuditEntryRead(BaseModel):
    id: uuid.UUID
    action: str
    actor_user_id: uuid.UUID | None
    details: dict[str, object]
    created_at: datetime


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None = Field(
        None, description="Pass as cursor for older entries; null at the end."
    )


class InstagramTokenRead(BaseModel):
    """The Instagram connection's token, for a service that calls Meta."""

    org_id: uuid.UUID
    instagram_account_id: str
    access_token: str
