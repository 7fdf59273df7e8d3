"""The gateway's routes: its own, and the organization paths it forwards."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.gateway.auth import (
    CurrentMember,
    GatewayDb,
    Member,
    current_person_admin,
)
from services.gateway.proxy import forward
from shared.runtime import Runtime

# The first path segment after /api/orgs/{org_id}/ names the owning service.
PROXIED_AREAS: dict[str, str] = {
    "contacts": "contacts",
    "properties": "contacts",
    "tags": "contacts",
    "conversations": "contacts",
    "scenarios": "contacts",
    "campaigns": "contacts",
    "exports": "contacts",
    "deletion": "deletion",
    "agent": "ai_agent",
}

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

router = APIRouter()


# Account deletion is for an admin signed in as a person, never the API token.
_PERSON_ADMIN_AREAS = frozenset({"deletion"})


def _proxy_route(area: str, service: str) -> None:
    async def proxy(request: Request, member: CurrentMember, db: GatewayDb) -> Response:
        if area in _PERSON_ADMIN_AREAS:
            member = await current_person_admin(member)
        # Give the connection back before waiting on another service.
        await db.commit()
        return await _forward(request, member, service)

    for suffix in ("", "/{rest:path}"):
        router.add_api_route(
            f"/api/orgs/{{org_id}}/{area}{suffix}",
            proxy,
            methods=_METHODS,
            include_in_schema=False,
            name=f"proxy_{area}{'_nested' if suffix else ''}",
        )


async def _forward(request: Request, member: Member, service: str) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = request.app.state.settings
    return await forward(
        request,
        client=request.app.state.http,
        upstream=settings.upstream_url(service),
        service=service,
        member=member,
        keys=runtime.secrets.internal_signing_keys,
        ttl_seconds=settings.identity_ttl_seconds,
    )


for _area, _service in PROXIED_AREAS.items():
    _proxy_route(_area, _service)
