"""Paths for Ojime's own services, never for people or programs outside.

A caller must send a service identity (``kind`` "service") signed with the
internal signing keys and addressed to the gateway; anything else, a session
cookie or the API token included, gets 401. These paths stay out of the
OpenAPI document. The gateway is the public edge, so they are reachable from
outside: the signature, not the network, is what guards them.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request, Response

from services.gateway import SPEC
from services.gateway.auth import EdgeDep, GatewayDb
from services.gateway.orgs import integrations
from services.gateway.orgs.errors import (
    IdentityForAnotherOrganization,
    ServiceIdentityRequired,
)
from services.gateway.orgs.schemas import InstagramTokenRead
from shared.errors import NotAuthenticated
from shared.identity import IDENTITY_HEADER, Identity, verify_identity

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/internal", include_in_schema=False)


def service_identity(request: Request, edge: EdgeDep) -> Identity:
    """The calling service, proven by its signed identity."""
    try:
        identity = verify_identity(
            request.headers.get(IDENTITY_HEADER),
            edge.runtime.secrets.internal_signing_keys,
            SPEC.name,
        )
    except NotAuthenticated as exc:
        log.info("internal.refused", reason=exc.message)
        raise ServiceIdentityRequired() from None
    if not identity.is_service:
        log.info("internal.refused", reason="not a service identity")
        raise ServiceIdentityRequired()
    return identity


CallingService = Annotated[Identity, Depends(service_identity)]


@router.get("/orgs/{org_id}/instagram-token")
async def instagram_token(
    org_id: uuid.UUID,
    caller: CallingService,
    db: GatewayDb,
    edge: EdgeDep,
    response: Response,
) -> InstagramTokenRead:
    """The organization's Instagram token, for a service about to call Meta.

    An identity signed for one organization reads that organization's only.
    """
    if caller.org_id is not None and caller.org_id != org_id:
        raise IdentityForAnotherOrganization()
    account_id, token = await integrations.instagram_token(
        db, edge.runtime.secrets.master_keys, org_id
    )
    log.info("internal.instagram_token_read", org_id=str(org_id), caller=caller.issuer)
    response.headers["cache-control"] = "no-store"
    return InstagramTokenRead(
        org_id=org_id, instagram_account_id=account_id, access_token=token
    )
