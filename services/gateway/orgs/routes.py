"""``/api/orgs``: connecting Instagram, the caller's organizations, their
settings and audit log."""

from __future__ import annotations

import uuid
from typing import Annotated, cast

import structlog
from fastapi import APIRouter, Query, Request, status

from services.gateway.auth import (
    CurrentAdmin,
    CurrentMember,
    CurrentPrincipal,
    EdgeDep,
    GatewayDb,
    PersonAdmin,
    SignedIn,
)
from services.gateway.models import Organization, User
from services.gateway.orgs import audit, meta, repository, service
from services.gateway.orgs.schemas import (
    AuditEntryRead,
    AuditPage,
    InstagramConnectionCreate,
    OrganizationRead,
    OrganizationUpdate,
)
from shared.db import unit_of_work
from shared.identity import Role

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/orgs", tags=["organizations"])


def organization_read(organization: Organization, role: str) -> OrganizationRead:
    return OrganizationRead(
        id=organization.id,
        name=organization.name,
        instagram_account_id=organization.instagram_account_id,
        instagram_username=organization.instagram_username,
        require_two_factor=organization.require_two_factor,
        role=cast(Role, role),
        created_at=organization.created_at,
    )


@router.post(
    "/connect/instagram",
    status_code=status.HTTP_201_CREATED,
    responses={
        400: {"description": "Meta refused the code, or no account fits"},
        409: {"description": "The account belongs to an organization already"},
        502: {"description": "Meta did not answer, or refused Ojime's app"},
    },
)
async def connect_instagram(
    body: InstagramConnectionCreate,
    principal: SignedIn,
    db: GatewayDb,
    edge: EdgeDep,
    request: Request,
) -> OrganizationRead:
    """Create an organization by connecting an Instagram professional account.

    Send the code Facebook Login for Business gave the front-end, with the
    redirect URI it was issued for. The caller becomes the organization's
    admin. One Instagram account belongs to one organization: an account
    connected already is refused with 409.
    """
    user = _person(principal.user)
    # Give the connection back while Meta answers.
    await db.commit()
    shared = await meta.shared_accounts(
        request.app.state.http,
        meta.MetaApp.from_settings(edge.settings),
        code=body.code,
        redirect_uri=body.redirect_uri,
    )
    account = service.choose_account(shared, body.instagram_account_id)

    org_id = uuid.uuid4()
    async with unit_of_work(edge.runtime.sessions, org_id) as org_db:
        organization = await service.create_from_instagram(
            org_db,
            edge.runtime.secrets.master_keys,
            org_id=org_id,
            founder=user.id,
            account=account,
        )
    log.info("organization.connected", org_id=str(org_id))
    return organization_read(organization, "admin")


@router.get("")
async def list_organizations(
    principal: SignedIn, edge: EdgeDep
) -> list[OrganizationRead]:
    """The organizations the signed-in person belongs to, with their role."""
    user = _person(principal.user)
    async with unit_of_work(edge.runtime.sessions, user_id=user.id) as db:
        found = await repository.organizations_of(db, user.id)
    return [organization_read(organization, role) for organization, role in found]


@router.get("/{org_id}")
async def get_organization(
    org_id: uuid.UUID, member: CurrentMember, db: GatewayDb
) -> OrganizationRead:
    """The organization, and the caller's role in it."""
    organization = await _organization(db, org_id)
    return organization_read(organization, member.role)


@router.patch("/{org_id}", responses={409: {"description": "Two-factor is off"}})
async def update_organization(
    org_id: uuid.UUID,
    body: OrganizationUpdate,
    member: PersonAdmin,
    principal: CurrentPrincipal,
    db: GatewayDb,
) -> OrganizationRead:
    """Rename the organization, or require two-factor sign-in of its members.

    Only an admin who has turned two-factor on may require it.
    """
    organization = await _organization(db, org_id)
    service.update_settings(db, organization, body, _person(principal.user))
    return organization_read(organization, member.role)


@router.get("/{org_id}/audit")
async def audit_log(
    org_id: uuid.UUID,
    member: CurrentAdmin,
    db: GatewayDb,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """Who did what in the organization, newest first, a page at a time."""
    entries, next_cursor = await audit.page(db, org_id, cursor=cursor, limit=limit)
    return AuditPage(
        items=[
            AuditEntryRead(
                id=entry.id,
                action=entry.action,
                actor_user_id=entry.actor_user_id,
                details=entry.details,
                created_at=entry.created_at,
            )
            for entry in entries
        ],
        next_cursor=next_cursor,
    )


async def _organization(db: GatewayDb, org_id: uuid.UUID) -> Organization:
    # The membership check loaded it into this session already.
    organization = await repository.organization(db, org_id)
    assert organization is not None, "current_member found its membership"
    return organization


def _person(user: User | None) -> User:
    assert user is not None, "SignedIn and PersonAdmin have a user"
    return user
