"""Custom properties: their definitions and the contacts' values.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import tenant_table_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TYPES = (
    "text",
    "number",
    "boolean",
    "date",
    "email",
    "phone",
    "single_choice",
    "multiple_choice",
)


def upgrade() -> None:
    _create_definitions()
    _create_values()
    for name in ("property_definitions", "property_values"):
        for statement in tenant_table_sql(f"contacts.{name}"):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("property_values", schema="contacts")
    op.drop_table("property_definitions", schema="contacts")


def _create_definitions() -> None:
    types = ", ".join(f"'{name}'" for name in _TYPES)
    op.create_table(
        "property_definitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("value_type", sa.Text(), nullable=False),
        sa.Column("choices", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            f"value_type in ({types})", name="property_definitions_type"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "key"),
        schema="contacts",
    )


def _create_values() -> None:
    op.create_table(
        "property_values",
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("property_id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("value_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("value_index", sa.LargeBinary(), nullable=True),
        sa.Column("value_plain", postgresql.JSONB(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.contacts.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["contacts.property_definitions.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contact_id", "property_id"),
        schema="contacts",
    )
    op.create_index(
        "property_values_by_index",
        "property_values",
        ["property_id", "value_index"],
        unique=False,
        schema="contacts",
    )
