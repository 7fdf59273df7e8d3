"""Revocable invitations looked up by their token's hash, and roles limited to
admin and member.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from services.gateway.models import ROLE_CHECK

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ROLE_CHECKS = {
    "memberships": "memberships_role",
    "invitations": "invitations_role",
}


def upgrade() -> None:
    op.execute("alter table gateway.invitations add column revoked_at timestamptz")
    op.execute(
        "create unique index invitations_token_hash on gateway.invitations (token_hash)"
    )
    for table, constraint in _ROLE_CHECKS.items():
        op.execute(
            f"alter table gateway.{table} add constraint {constraint} "
            f"check ({ROLE_CHECK})"
        )


def downgrade() -> None:
    for table, constraint in _ROLE_CHECKS.items():
        op.execute(f"alter table gateway.{table} drop constraint {constraint}")
    op.execute("drop index gateway.invitations_token_hash")
    op.execute("alter table gateway.invitations drop column revoked_at")
