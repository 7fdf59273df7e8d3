"""The send path: every send asked and its outcome, and conversation takeover.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import tenant_table_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "conversations",
        sa.Column("taken_over_at", sa.DateTime(timezone=True), nullable=True),
        schema="contacts",
    )
    op.add_column(
        "conversations",
        sa.Column("taken_over_by_user_id", sa.Uuid(), nullable=True),
        schema="contacts",
    )
    _create_sends()
    for statement in tenant_table_sql("contacts.sends"):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("sends", schema="contacts")
    op.drop_column("conversations", "taken_over_by_user_id", schema="contacts")
    op.drop_column("conversations", "taken_over_at", schema="contacts")


def _create_sends() -> None:
    op.create_table(
        "sends",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("sender_kind", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("tag", sa.Text(), nullable=True),
        sa.Column("meta_error_code", sa.Integer(), nullable=True),
        sa.Column("instagram_message_id", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
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
        sa.CheckConstraint(
            "state in ('sending', 'sent', 'refused', 'failed', 'unconfirmed')",
            name="sends_state",
        ),
        sa.CheckConstraint(
            "sender_kind in ('contact', 'person', 'scenario', 'campaign', 'ai')",
            name="sends_sender_kind",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.contacts.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="contacts",
    )
    op.create_index(
        "sends_by_contact",
        "sends",
        ["contact_id", "created_at"],
        unique=False,
        schema="contacts",
    )
