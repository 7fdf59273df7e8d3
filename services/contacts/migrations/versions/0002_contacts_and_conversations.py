"""Contacts, conversations, messages, tags and opt-out history.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import tenant_table_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TENANT_TABLES = (
    "contacts",
    "conversations",
    "messages",
    "tags",
    "contact_tags",
    "opt_out_changes",
)


def upgrade() -> None:
    _create_tables()
    for name in _TENANT_TABLES:
        for statement in tenant_table_sql(f"contacts.{name}"):
            op.execute(statement)


def downgrade() -> None:
    for name in reversed(_TENANT_TABLES):
        op.drop_table(name, schema="contacts")


def _create_tables() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("instagram_id", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("name_override", sa.Text(), nullable=True),
        sa.Column("profile_pic_url", sa.Text(), nullable=True),
        sa.Column("follower_count", sa.Integer(), nullable=True),
        sa.Column("is_verified", sa.Boolean(), nullable=True),
        sa.Column("profile_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opted_out", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "last_interaction_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "instagram_id"),
        schema="contacts",
    )
    op.create_index(
        "contacts_by_created",
        "contacts",
        ["org_id", "created_at", "id"],
        unique=False,
        schema="contacts",
    )
    op.create_index(
        "contacts_by_last_interaction",
        "contacts",
        ["org_id", "last_interaction_at", "id"],
        unique=False,
        schema="contacts",
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "name"),
        schema="contacts",
    )
    op.create_table(
        "contact_tags",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.contacts.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["contacts.tags.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("contact_id", "tag_id"),
        schema="contacts",
    )
    op.create_index(
        op.f("ix_contacts_contact_tags_tag_id"),
        "contact_tags",
        ["tag_id"],
        unique=False,
        schema="contacts",
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column(
            "last_message_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.contacts.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_id"),
        schema="contacts",
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("instagram_message_id", sa.Text(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("sender_kind", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("text_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("direction in ('in', 'out')", name="messages_direction"),
        sa.CheckConstraint(
            "sender_kind in ('contact', 'person', 'scenario', 'campaign', 'ai')",
            name="messages_sender_kind",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.contacts.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["contacts.conversations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "instagram_message_id"),
        schema="contacts",
    )
    op.create_index(
        "messages_by_contact",
        "messages",
        ["contact_id", "sent_at", "id"],
        unique=False,
        schema="contacts",
    )
    op.create_index(
        "messages_by_time",
        "messages",
        ["conversation_id", "sent_at", "id"],
        unique=False,
        schema="contacts",
    )
    op.create_table(
        "opt_out_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method in ('keyword', 'manual', 'api', 'import')",
            name="opt_out_changes_method",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.contacts.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["contacts.messages.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="contacts",
    )
    op.create_index(
        "opt_out_changes_by_contact",
        "opt_out_changes",
        ["contact_id", "created_at"],
        unique=False,
        schema="contacts",
    )
