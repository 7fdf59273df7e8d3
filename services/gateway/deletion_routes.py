"""Scheduling and cancelling an organization's deletion, at the gateway.

The gateway owns passwords and second factors, so it checks them here before
asking the deletion service to schedule; the deletion service never sees them.
Both answers go into the organization's audit log once the deletion service
has accepted them. Reading the state is proxied like any other path.
"""

from __future__ import annotations

import uuid

import httpx
import structlog
from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field
from starlette.responses import Response

from services.gateway.accounts import service as accounts
from services.gateway.auth import CurrentPrincipal, EdgeDep, GatewayDb, PersonAdmin
from services.gateway.orgs.audit import AuditAction, record
from services.gateway.proxy import UpstreamTimeout, UpstreamUnavailable
from shared.context import current_request_id
from shared.identity import IDENTITY_HEADER, sign_identity, user_identity
from shared.middleware import REQUEST_ID_HEADER

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/api/orgs/{org_id}/deletion", tags=["deletion"])


class DeletionConfirmation(BaseModel):
    """The admin's password, and with two-factor on, a code or recovery code."""

    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(default=None, max_length=20)
    recovery_code: str | None = Field(default=None, max_length=64)


@router.post("", status_code=status.HTTP_201_CREATED)
async def schedule_deletion(
    org_id: uuid.UUID,
    body: DeletionConfirmation,
    request: Request,
    admin: PersonAdmin,
    principal: CurrentPrincipal,
    db: GatewayDb,
    edge: EdgeDep,
) -> Response:
    """Schedule the deletion of the organization and all its data 24 hours from
    now, after the admin re-enters their password (and two-factor code). Any
    admin may cancel it until then. A second request while one is open is a
    409."""
    assert principal.user is not None
    await accounts.confirm_identity(
        db,
        edge.hasher,
        edge.runtime.secrets.master_keys,
        principal.user,
        password=body.password,
        second_factor=accounts.SecondFactor(body.code, body.recovery_code),
    )
    await db.commit()

    answer = await _ask_deletion_service(request, admin.user_id, org_id, "POST")
    if answer.status_code == status.HTTP_201_CREATED:
        due_at = answer.json()["due_at"]
        record(
            db,
            org_id,
            AuditAction.DELETION_SCHEDULED,
            actor=admin.user_id,
            due_at=due_at,
        )
    return _relayed(answer)


@router.delete("")
async def cancel_deletion(
    org_id: uuid.UUID, request: Request, admin: PersonAdmin, db: GatewayDb
) -> Response:
    """Cancel the scheduled deletion; once the purge has started, 409."""
    await db.commit()

    answer = await _ask_deletion_service(request, admin.user_id, org_id, "DELETE")
    if answer.status_code == status.HTTP_200_OK:
        record(db, org_id, AuditAction.DELETION_CANCELLED, actor=admin.user_id)
    return _relayed(answer)


async def _ask_deletion_service(
    request: Request, user_id: uuid.UUID | None, org_id: uuid.UUID, method: str
) -> httpx.Response:
    settings = request.app.state.settings
    identity = user_identity(
        issuer="gateway",
        audience="deletion",
        org_id=org_id,
        user_id=user_id,
        role="admin",
        ttl_seconds=settings.identity_ttl_seconds,
    )
    keys = request.app.state.runtime.secrets.internal_signing_keys
    headers = {
        IDENTITY_HEADER: sign_identity(identity, keys),
        REQUEST_ID_HEADER: current_request_id() or "",
    }
    url = f"{settings.upstream_url('deletion')}/api/orgs/{org_id}/deletion"
    return await _send(request.app.state.http, method, url, headers)


async def _send(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]
) -> httpx.Response:
    try:
        return await client.request(method, url, headers=headers)
    except httpx.TimeoutException as exc:
        log.warning("proxy.timeout", service="deletion")
        raise UpstreamTimeout() from exc
    except httpx.TransportError as exc:
        log.warning("proxy.unavailable", service="deletion", error=type(exc).__name__)
        raise UpstreamUnavailable() from exc


def _relayed(answer: httpx.Response) -> Response:
    return Response(
        content=answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type", "application/json"),
    )
