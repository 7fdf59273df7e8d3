"""Deletion requests with their grace window, and purge runs.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import tenant_table_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_requests()
    _create_runs()
    for name in ("deletion_requests", "purge_runs"):
        for statement in tenant_table_sql(f"deletion.{name}"):
            op.execute(statement)


def downgrade() -> None:
    op.drop_table("purge_runs", schema="deletion")
    op.drop_table("deletion_requests", schema="deletion")


def _create_requests() -> None:
    op.create_table(
        "deletion_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("cancelled_by", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state in ('scheduled', 'cancelled', 'purging')",
            name="deletion_requests_state",
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="deletion",
    )
    op.create_index(
        "deletion_requests_one_open",
        "deletion_requests",
        ["org_id"],
        unique=True,
        schema="deletion",
        postgresql_where=sa.text("state <> 'cancelled'"),
    )
    op.create_index(
        "deletion_requests_org_time",
        "deletion_requests",
        ["org_id", "requested_at"],
        schema="deletion",
    )


def _create_runs() -> None:
    op.create_table(
        "purge_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", postgresql.JSONB(), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(["id"], ["deletion.deletion_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
        schema="deletion",
    )
    op.create_index(
        op.f("ix_deletion_purge_runs_org_id"),
        "purge_runs",
        ["org_id"],
        schema="deletion",
    )
