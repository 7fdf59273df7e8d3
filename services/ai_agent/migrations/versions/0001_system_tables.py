"""The ai_agent schema's system tables: outbox, handled events, work, org keys.

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.migrations import create_system_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_system_tables("ai_agent")


def downgrade() -> None:
    for table in ("work_items", "outbox", "org_keys", "handled_events"):
        op.drop_table(table, schema="ai_agent")
