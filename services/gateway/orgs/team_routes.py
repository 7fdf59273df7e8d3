"""The team of an organization: members, their roles, and invitations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from fastapi import APIRouter, Response, status

from services.gateway.auth import (
    CurrentMember,
    EdgeDep,
    GatewayDb,
    PersonAdmin,
    SignedIn,
    current_person_admin,
)
from services.gateway.models import Invitation
from services.gateway.orgs import invitations, repository, team
from services.gateway.orgs.routes import organization_read
from services.gateway.orgs.schemas import (
    InvitationCreate,
    InvitationLinkRead,
    InvitationRead,
    MemberRead,
    MembershipCreate,
    MemberUpdate,
    OrganizationRead,
)
from shared.db import unit_of_work
from shared.identity import Role

router = APIRouter(prefix="/api/orgs/{org_id}", tags=["team"])
accept_router = APIRouter(prefix="/api/invitations", tags=["team"])

_LAST_ADMIN: dict[int | str, dict[str, Any]] = {
    409: {"description": "The organization would have no admin left"}
}


@router.get("/members")
async def list_members(
    org_id: uuid.UUID, member: PersonAdmin, db: GatewayDb
) -> list[MemberRead]:
    """Everyone in the organization, with their role and two-factor status."""
    return await team.members(db, org_id)


@router.patch("/members/{user_id}", responses=_LAST_ADMIN)
async def change_role(
    org_id: uuid.UUID,
    user_id: uuid.UUID,
    body: MemberUpdate,
    member: PersonAdmin,
    db: GatewayDb,
) -> MemberRead:
    """Give a member another role; it counts from their very next request."""
    await team.change_role(db, org_id, user_id, body.role, by=member.user_id)
    return await team.member(db, org_id, user_id)


@router.delete(
    "/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_LAST_ADMIN,
)
async def remove_member(
    org_id: uuid.UUID, user_id: uuid.UUID, member: CurrentMember, db: GatewayDb
) -> None:
    """Remove a member (admins), or leave the organization (anyone, for
    themselves). Their next request to it is refused."""
    if member.user_id != user_id:
        member = await current_person_admin(member)
    await team.remove(db, org_id, user_id, by=member.user_id)


@router.post("/invitations", status_code=status.HTTP_201_CREATED)
async def invite(
    org_id: uuid.UUID,
    body: InvitationCreate,
    member: PersonAdmin,
    db: GatewayDb,
    edge: EdgeDep,
    response: Response,
) -> InvitationLinkRead:
    """Invite someone by email, and get the link that lets them join.

    Ojime sends no email: the link is answered here, this once, and the admin
    passes it on. It works once, for a person signed in with that email,
    until it expires. Inviting an email again replaces its pending link.
    """
    invitation, token = await invitations.invite(
        db,
        org_id,
        email=str(body.email),
        role=body.role,
        by=member.user_id,
        ttl=timedelta(hours=edge.settings.invitation_ttl_hours),
    )
    response.headers["cache-control"] = "no-store"
    return InvitationLinkRead(
        **_invitation_read(invitation).model_dump(),
        accept_url=invitations.accept_url(edge.settings.public_url, token),
    )


@router.get("/invitations")
async def list_invitations(
    org_id: uuid.UUID, member: PersonAdmin, db: GatewayDb
) -> list[InvitationRead]:
    """Invitations not yet accepted, withdrawn or expired, newest first."""
    pending = await repository.pending_invitations(db, org_id, _now())
    return [_invitation_read(invitation) for invitation in pending]


@router.delete("/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invitation(
    org_id: uuid.UUID, invitation_id: uuid.UUID, member: PersonAdmin, db: GatewayDb
) -> None:
    """Withdraw an invitation; its link stops working at once."""
    await invitations.revoke(db, org_id, invitation_id, by=member.user_id)


@accept_router.post(
    "/accept",
    responses={
        403: {"description": "The invitation is for another email"},
        409: {"description": "Already a member"},
        410: {"description": "Used, withdrawn or expired"},
    },
)
async def accept_invitation(
    body: MembershipCreate, principal: SignedIn, edge: EdgeDep
) -> OrganizationRead:
    """Join the organization an invitation is for, signed in with its email."""
    assert principal.user is not None
    org_id = invitations.organization_of(body.token)
    async with unit_of_work(edge.runtime.sessions, org_id) as db:
        membership = await invitations.accept(db, org_id, body.token, principal.user)
        organization = await repository.organization(db, org_id)
    assert organization is not None, "memberships belong to an organization"
    return organization_read(organization, membership.role)


def _invitation_read(invitation: Invitation) -> InvitationRead:
    return InvitationRead(
        id=invitation.id,
        email=invitation.email,
        role=cast(Role, invitation.role),
        invited_by=invitation.invited_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def _now() -> datetime:
    return datetime.now(UTC)
