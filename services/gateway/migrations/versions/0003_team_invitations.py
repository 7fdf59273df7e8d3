"""Revocable invitations looked up by their token's hash, and roles limited to
admin and member.

Revision 0002 creates the gateway's tables from the models as they are when
it runs, so on a fresh database these changes exist already when this
revision runs; every statement here leaves what it finds in place.

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
    op.execute(
        "alter table gateway.invitations "
        "add column if not exists revoked_at timestamptz"
    )
    op.execute(
        "create unique index if not exists invitations_token_hash "
        "on gateway.invitations (token_hash)"
    )
    for table, constraint in _ROLE_CHECKS.items():
        op.execute(_add_check_once(table, constraint))


def _add_check_once(table: str, constraint: str) -> str:
    return (
        "do $$ begin "
        f"alter table gateway.{table} add constraint {constraint} "
        f"check ({ROLE_CHECK}); "
        "exception when duplicate_object then null; end $$"
    )


def downgrade() -> None:
    for table, constraint in _ROLE_CHECKS.items():
        op.execute(
            f"alter table gateway.{table} drop constraint if exists {constraint}"
        )
    op.execute("drop index if exists gateway.invitations_token_hash")
    op.execute("alter table gateway.invitations drop column if exists revoked_at")
