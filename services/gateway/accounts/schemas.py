"""Request and response bodies of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class SignupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)


class LoginCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(None, max_length=16)
    recovery_code: str | None = Field(None, max_length=32)


class PasswordUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class UserRead(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    two_factor_enabled: bool
    created_at: datetime


class AuthRead(BaseModel):
    """The signed-in user and the CSRF token to send with state changes."""

    user: UserRead
    csrf_token: str


class SessionRead(BaseModel):
    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str
    current: bool


class SessionsEnded(BaseModel):
    ended: int


class TwoFactorSetupRead(BaseModel):
    secret: str
    otpauth_uri: str


class TwoFactorCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=6, max_length=16)


class TwoFactorDisable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(None, max_length=16)
    recovery_code: str | None = Field(None, max_length=32)


class RecoveryCodesRead(BaseModel):
    """Shown once: store them somewhere safe."""

    recovery_codes: list[str]
