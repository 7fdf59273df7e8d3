"""Instagram webhook deliveries, sealed, and the messaging items already turned
into events.

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

_TABLES = ("instagram_deliveries", "instagram_items")


def upgrade() -> None:
    _create_deliveries()
    _create_items()
    for name in _TABLES:
        for statement in tenant_table_sql(f"gateway.{name}"):
            op.execute(statement)


def _create_deliveries() -> None:
    op.create_table(
        "instagram_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["gateway.organizations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="gateway",
    )
    op.create_index(
        "ix_gateway_instagram_deliveries_org_id",
        "instagram_deliveries",
        ["org_id"],
        unique=False,
        schema="gateway",
    )


def _create_items() -> None:
    op.create_table(
        "instagram_items",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("item_key", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["gateway.organizations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "kind", "item_key"),
        schema="gateway",
    )
    op.create_index(
        "instagram_items_age",
        "instagram_items",
        ["org_id", "received_at"],
        unique=False,
        schema="gateway",
    )


def downgrade() -> None:
    for name in reversed(_TABLES):
        op.drop_table(name, schema="gateway")
