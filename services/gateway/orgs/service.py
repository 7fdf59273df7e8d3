"""Organizations: made by connecting an Instagram account, and their settings.

Nothing here knows HTTP or commits; routes call these functions inside the
request's unit of work.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import Membership, Organization, User
from services.gateway.orgs import audit, integrations, repository
from services.gateway.orgs.audit import AuditAction
from services.gateway.orgs.errors import (
    InstagramAccountChoiceNeeded,
    InstagramAccountNotFound,
    InstagramAccountTaken,
    TwoFactorNeededFirst,
)
from services.gateway.orgs.meta import InstagramAccount
from services.gateway.orgs.schemas import OrganizationUpdate
from shared.crypto.keyring import KeyRing


def choose_account(
    shared: list[InstagramAccount], wanted: str | None
) -> InstagramAccount:
    """The account to connect: the one asked for, or the only one shared."""
    if wanted is not None:
        for account in shared:
            if account.account_id == wanted:
                return account
        raise InstagramAccountNotFound()
    if not shared:
        raise InstagramAccountNotFound()
    if len(shared) > 1:
        raise InstagramAccountChoiceNeeded(details=_choices(shared))
    return shared[0]


def _choices(shared: list[InstagramAccount]) -> list[dict[str, object]]:
    return [
        {"instagram_account_id": account.account_id, "username": account.username}
        for account in shared
    ]


async def create_from_instagram(
    db: AsyncSession,
    master_keys: KeyRing,
    *,
    org_id: uuid.UUID,
    founder: uuid.UUID,
    account: InstagramAccount,
) -> Organization:
    """A new organization for ``account``, with ``founder`` as its admin.

    ``db`` must be scoped to ``org_id``. An account that belongs to an
    organization already is refused, however close two attempts come.
    """
    if await repository.instagram_account_taken(db, account.account_id):
        raise InstagramAccountTaken()
    now = datetime.now(UTC)
    organization = Organization(
        id=org_id,
        name=account.username or account.account_id,
        instagram_account_id=account.account_id,
        instagram_username=account.username,
        require_two_factor=False,
        created_at=now,
    )
    db.add(organization)
    try:
        await db.flush()
    except IntegrityError:
        raise InstagramAccountTaken() from None

    db.add(Membership(org_id=org_id, user_id=founder, role="admin", created_at=now))
    integrations.store(
        db,
        master_keys,
        org_id=org_id,
        provider="instagram",
        token=account.page_token.get_secret_value(),
        external_account_id=account.account_id,
    )
    audit.record(
        db,
        org_id,
        AuditAction.ORGANIZATION_CONNECTED,
        actor=founder,
        instagram_account_id=account.account_id,
    )
    return organization


def update_settings(
    db: AsyncSession,
    organization: Organization,
    update: OrganizationUpdate,
    actor: User,
) -> None:
    """Rename the organization or change whether it requires two-factor.

    Requiring two-factor is refused to an admin who has not turned it on, who
    would otherwise be shut out by their own change.
    """
    changes = update.model_dump(exclude_none=True)
    if changes.get("require_two_factor") and actor.totp_enabled_at is None:
        raise TwoFactorNeededFirst()
    for field, value in changes.items():
        setattr(organization, field, value)
    if changes:
        audit.record(
            db,
            organization.id,
            AuditAction.ORGANIZATION_SETTINGS_CHANGED,
            actor=actor.id,
            fields=",".join(sorted(changes)),
            require_two_factor=organization.require_two_factor,
        )
