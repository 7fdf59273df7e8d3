"""Tables of the gateway, all in its own ``gateway`` schema.

Users and login sessions belong to no single organization. Everything an
organization owns carries ``org_id`` and sits under row-level security.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.crypto.columns import SEALED_COLUMNS, SealedColumn
from shared.tables import add_system_tables

TENANT_TABLES = (
    "memberships",
    "invitations",
    "api_tokens",
    "integrations",
    "billing_profiles",
    "audit_log",
    "instagram_deliveries",
    "instagram_items",
)
ROLE_CHECK = "role in ('admin', 'member')"


class Base(DeclarativeBase):
    metadata = MetaData(schema="gateway")


SYSTEM_TABLES = add_system_tables(Base.metadata)


def _now() -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = _now()
    password_changed_at: Mapped[datetime] = _now()


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginSession(Base):
    """A signed-in browser; the cookie carries a token whose hash is here."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    user_agent: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = _now()
    last_seen_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Text)
    instagram_account_id: Mapped[str] = mapped_column(Text, unique=True)
    instagram_username: Mapped[str] = mapped_column(Text)
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = _now()


class Membership(Base):
    __tablename__ = "memberships"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()

    __table_args__ = (CheckConstraint(ROLE_CHECK, name="memberships_role"),)


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    invited_by: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="invitations_role"),
        Index("invitations_token_hash", "token_hash", unique=True),
    )


class ApiToken(Base):
    """The organization's one API token: a keyed hash, never the token."""

    __tablename__ = "api_tokens"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = _now()


class Integration(Base):
    __tablename__ = "integrations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(Text)
    external_account_id: Mapped[str] = mapped_column(Text, default="")
    token_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    connected_at: Mapped[datetime] = _now()

    __table_args__ = (UniqueConstraint("org_id", "provider"),)


class BillingProfile(Base):
    __tablename__ = "billing_profiles"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    tax_id: Mapped[str] = mapped_column(Text, default="")
    stripe_customer_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = _now()


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = _now()

    __table_args__ = (Index("audit_log_org_time", "org_id", "created_at"),)


class InstagramDelivery(Base):
    """A webhook delivery from Meta, sealed, kept for a short retention.

    The body holds message text, so it is sealed with the master key and
    bound to its row; a work item deletes the row when the retention ends.
    """

    __tablename__ = "instagram_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = _now()


class InstagramItem(Base):
    """One messaging item already turned into an event, so that Meta's
    redeliveries of it are recognised and dropped."""

    __tablename__ = "instagram_items"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    item_key: Mapped[str] = mapped_column(Text, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column()
    received_at: Mapped[datetime] = _now()

    __table_args__ = (Index("instagram_items_age", "org_id", "received_at"),)


TOTP_SECRET = SEALED_COLUMNS.register(SealedColumn(User.__table__, "totp_secret"))
INTEGRATION_TOKEN = SEALED_COLUMNS.register(
    SealedColumn(Integration.__table__, "token_ciphertext")
)
STRIPE_CUSTOMER = SEALED_COLUMNS.register(
    SealedColumn(
        BillingProfile.__table__, "stripe_customer_ciphertext", key_column="org_id"
    )
)
INSTAGRAM_DELIVERY_BODY = SEALED_COLUMNS.register(
    SealedColumn(InstagramDelivery.__table__, "body")
)
