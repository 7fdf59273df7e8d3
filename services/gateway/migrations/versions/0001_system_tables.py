"""The gateway schema's system tables: outbox, handled events, work, org keys.

Revision ID: 0001
Revises:
"""

from alembic import op

from services.gateway.models import SYSTEM_TABLES

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in SYSTEM_TABLES.values():
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(list(SYSTEM_TABLES.values())):
        table.drop(op.get_bind())
