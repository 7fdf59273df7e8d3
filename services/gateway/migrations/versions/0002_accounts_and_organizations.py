"""Accounts, sessions, organizations, team, API token, integrations, billing,
audit log.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from services.gateway.models import SYSTEM_TABLES, TENANT_TABLES, Base
from shared.db import USER_SETTING
from shared.migrations import tenant_table_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = [
    table for table in Base.metadata.sorted_tables if table.name not in SYSTEM_TABLES
]


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind)
    for name in TENANT_TABLES:
        for statement in tenant_table_sql(f"gateway.{name}"):
            op.execute(statement)
    # A user may list their own memberships across organizations ("my
    # organizations"); every other read stays inside one organization.
    op.execute(
        "create policy own_memberships on gateway.memberships for select "
        f"using (user_id = nullif(current_setting('{USER_SETTING}', true), '')::uuid)"
    )


def downgrade() -> None:
    for table in reversed(_TABLES):
        table.drop(op.get_bind())
