"""What only an admin signed in as a person may do: the API token, the
integrations and the billing profile. The API token itself gets 403 here."""

from __future__ import annotations

import uuid

import structlog
from fastapi import APIRouter, Response, status

from services.gateway.auth import EdgeDep, GatewayDb, PersonAdmin
from services.gateway.orgs import api_tokens, audit, billing, integrations
from services.gateway.orgs.audit import AuditAction
from services.gateway.orgs.schemas import (
    ApiTokenRead,
    ApiTokenSecretRead,
    BillingProfileRead,
    BillingProfileUpdate,
    ConnectableProvider,
    IntegrationRead,
    IntegrationUpdate,
)

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/orgs/{org_id}")


@router.post("/api-token", status_code=status.HTTP_201_CREATED, tags=["api token"])
async def regenerate_api_token(
    org_id: uuid.UUID,
    member: PersonAdmin,
    db: GatewayDb,
    edge: EdgeDep,
    response: Response,
) -> ApiTokenSecretRead:
    """Create the organization's API token, or replace it.

    The token is shown this once; store it now. A token it replaces fails
    from the very next request. Send it as ``Authorization: Bearer <token>``.
    """
    master_keys = edge.runtime.secrets.master_keys
    token = await api_tokens.regenerate(db, master_keys, org_id, member.user_id)
    stored = await api_tokens.current(db, org_id)
    assert stored is not None, "regenerate stored it"
    audit.record(db, org_id, AuditAction.API_TOKEN_REGENERATED, actor=member.user_id)
    log.info("api_token.regenerated", org_id=str(org_id))
    response.headers["cache-control"] = "no-store"
    return ApiTokenSecretRead(token=token, created_at=stored.created_at)


@router.get("/api-token", tags=["api token"])
async def api_token_status(
    org_id: uuid.UUID, member: PersonAdmin, db: GatewayDb
) -> ApiTokenRead:
    """Whether the organization has an API token, and when it was made."""
    stored = await api_tokens.current(db, org_id)
    if stored is None:
        return ApiTokenRead(exists=False)
    return ApiTokenRead(
        exists=True, created_at=stored.created_at, created_by=stored.created_by
    )


@router.delete("/api-token", status_code=status.HTTP_204_NO_CONTENT, tags=["api token"])
async def revoke_api_token(
    org_id: uuid.UUID, member: PersonAdmin, db: GatewayDb
) -> None:
    """Revoke the API token; it fails from the very next request."""
    if await api_tokens.revoke(db, org_id):
        audit.record(db, org_id, AuditAction.API_TOKEN_REVOKED, actor=member.user_id)


@router.get("/integrations", tags=["integrations"])
async def list_integrations(
    org_id: uuid.UUID, member: PersonAdmin, db: GatewayDb
) -> list[IntegrationRead]:
    """Which outside services are connected, and since when. Never a token."""
    return await integrations.listing(db, org_id)


@router.put("/integrations/{provider}", tags=["integrations"])
async def connect_integration(
    org_id: uuid.UUID,
    provider: ConnectableProvider,
    body: IntegrationUpdate,
    member: PersonAdmin,
    db: GatewayDb,
    edge: EdgeDep,
) -> IntegrationRead:
    """Connect Stripe, Shopify or Calendly with an access token.

    The token is stored encrypted and never shown again. Connecting again
    replaces it. Instagram connects through ``/api/orgs/connect/instagram``.
    """
    row = await integrations.connect(
        db,
        edge.runtime.secrets.master_keys,
        org_id=org_id,
        provider=provider,
        token=body.access_token.get_secret_value(),
        external_account_id=body.external_account_id,
        by=member.user_id,
    )
    log.info("integration.connected", org_id=str(org_id), provider=provider)
    return IntegrationRead(
        provider=provider,
        connected=True,
        external_account_id=row.external_account_id,
        connected_at=row.connected_at,
    )


@router.delete(
    "/integrations/{provider}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["integrations"],
)
async def disconnect_integration(
    org_id: uuid.UUID, provider: ConnectableProvider, member: PersonAdmin, db: GatewayDb
) -> None:
    """Disconnect the service; its stored token is deleted."""
    if await integrations.disconnect(db, org_id, provider, by=member.user_id):
        log.info("integration.disconnected", org_id=str(org_id), provider=provider)


@router.get("/billing", tags=["billing"])
async def billing_profile(
    org_id: uuid.UUID, member: PersonAdmin, db: GatewayDb, edge: EdgeDep
) -> BillingProfileRead:
    """The billing profile; empty until an admin fills it in."""
    return await billing.read(db, edge.runtime.secrets.master_keys, org_id)


@router.put("/billing", tags=["billing"])
async def replace_billing_profile(
    org_id: uuid.UUID,
    body: BillingProfileUpdate,
    member: PersonAdmin,
    db: GatewayDb,
    edge: EdgeDep,
) -> BillingProfileRead:
    """Replace the billing profile. The Stripe customer id is stored encrypted."""
    return await billing.replace(
        db, edge.runtime.secrets.master_keys, org_id, body, by=member.user_id
    )
