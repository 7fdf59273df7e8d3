"""Who is calling the gateway, and what they may reach.

A browser is signed in by its session cookie; a program by the organization's
API token (``Authorization: Bearer``). A cookie request that changes state
must also pass the CSRF checks. Membership and role are read on every
request, so removing a member or lowering a role counts at once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.accounts import service as accounts
from services.gateway.accounts.cookies import InvalidCookie
from services.gateway.accounts.errors import CsrfRefused
from services.gateway.edge import Edge, get_edge
from services.gateway.models import LoginSession, Membership, Organization, User
from services.gateway.orgs.api_tokens import organization_of_token
from shared.db import unit_of_work
from shared.errors import NotAuthenticated, NotFound, PermissionDenied
from shared.identity import Role

CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAME_ORIGIN_FETCHES = frozenset({"same-origin", "none"})


class TwoFactorRequiredByOrganization(PermissionDenied):
    code = "two_factor_required_by_organization"
    message = "This organization asks its members to turn on two-factor sign-in."


class AdminOnly(PermissionDenied):
    code = "admin_only"
    message = "Only an admin of this organization may do this."


class PersonOnly(PermissionDenied):
    code = "person_only"
    message = "The API token cannot do this; an admin must, signed in."


@dataclass(frozen=True)
class Principal:
    """A caller proven by a session cookie or by an API token."""

    user: User | None = None
    session: LoginSession | None = None
    token_org_id: uuid.UUID | None = None
    # The membership of the organization in the path, read with the session.
    membership: Membership | None = None
    organization: Organization | None = None


class Member(BaseModel):
    """A caller acting within one organization."""

    model_config = ConfigDict(frozen=True)

    org_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    via_api_token: bool = False


async def gateway_db(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session, scoped to the organization in its path if any."""
    org_id = _path_org_id(request)
    sessions = get_edge(request).runtime.sessions
    async with unit_of_work(sessions, org_id) as session:
        yield session


def _path_org_id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(request.path_params.get("org_id")))
    except ValueError:
        return None


# scope="function" commits before the response is sent, so a 2xx is stored.
GatewayDb = Annotated[AsyncSession, Depends(gateway_db, scope="function")]
EdgeDep = Annotated[Edge, Depends(get_edge)]


async def current_principal(
    request: Request, db: GatewayDb, edge: EdgeDep
) -> Principal:
    bearer = _bearer_token(request)
    path_org_id = _path_org_id(request)
    if bearer is not None:
        org_id = await organization_of_token(
            edge.runtime.sessions,
            edge.runtime.secrets.master_keys,
            bearer,
            scoped=(path_org_id, db) if path_org_id else None,
        )
        if org_id is None:
            raise NotAuthenticated("The API token is not valid.")
        return Principal(token_org_id=org_id)
    return await _cookie_principal(request, db, edge, path_org_id)


def _bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _cookie_principal(
    request: Request, db: AsyncSession, edge: Edge, org_id: uuid.UUID | None
) -> Principal:
    cookie = request.cookies.get(edge.cookies.name)
    if not cookie:
        raise NotAuthenticated()
    try:
        token = edge.cookies.decode(cookie)
    except InvalidCookie:
        raise NotAuthenticated("The session is not valid.") from None
    found = await accounts.find_session(db, token, edge.sessions, org_id)
    if found is None:
        raise NotAuthenticated("The session has ended.")
    if request.method not in _SAFE_METHODS:
        _check_csrf(request, edge, token)
    request.state.session_token = token
    return Principal(
        user=found.user,
        session=found.session,
        membership=found.membership,
        organization=found.organization,
    )


def _check_csrf(request: Request, edge: Edge, token: bytes) -> None:
    origin = request.headers.get("origin")
    fetch_site = request.headers.get("sec-fetch-site")
    allowed_origin = origin in edge.settings.allowed_origins
    if origin is not None and not allowed_origin:
        raise CsrfRefused()
    # A cross-site fetch passes only from one of our own front-end origins.
    cross_site = fetch_site is not None and fetch_site not in _SAME_ORIGIN_FETCHES
    if cross_site and not allowed_origin:
        raise CsrfRefused()
    offered = request.headers.get(CSRF_HEADER, "")
    if not offered or not edge.cookies.csrf_token_matches(token, offered):
        raise CsrfRefused()


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def current_user(principal: CurrentPrincipal) -> Principal:
    """A person signed in with a session; the API token is not enough."""
    if principal.user is None or principal.session is None:
        raise PersonOnly()
    return principal


SignedIn = Annotated[Principal, Depends(current_user)]


async def current_member(org_id: uuid.UUID, principal: CurrentPrincipal) -> Member:
    """The caller as a member of ``org_id``; a stranger gets 404."""
    if principal.token_org_id is not None:
        if principal.token_org_id != org_id:
            raise NotFound()
        return Member(org_id=org_id, role="admin", via_api_token=True)
    assert principal.user is not None
    membership, organization = principal.membership, principal.organization
    if membership is None or organization is None or membership.org_id != org_id:
        raise NotFound()
    lacks_two_factor = principal.user.totp_enabled_at is None
    if organization.require_two_factor and lacks_two_factor:
        raise TwoFactorRequiredByOrganization()
    return Member(
        org_id=org_id,
        role=cast(Role, membership.role),
        user_id=principal.user.id,
    )


CurrentMember = Annotated[Member, Depends(current_member)]


async def current_admin(member: CurrentMember) -> Member:
    if member.role != "admin":
        raise AdminOnly()
    return member


async def current_person_admin(member: CurrentMember) -> Member:
    """An admin signed in as a person: team, billing, token, integrations,
    deletion."""
    if member.via_api_token:
        raise PersonOnly()
    return await current_admin(member)


CurrentAdmin = Annotated[Member, Depends(current_admin)]
PersonAdmin = Annotated[Member, Depends(current_person_admin)]
