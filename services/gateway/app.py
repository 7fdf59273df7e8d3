"""The gateway's application: the only public edge of the system."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.gateway import SPEC
from services.gateway.accounts.routes import router as accounts_router
from services.gateway.accounts.two_factor_routes import router as two_factor_router
from services.gateway.deletion_routes import router as deletion_router
from services.gateway.edge import build_edge
from services.gateway.internal import router as internal_router
from services.gateway.orgs.admin_routes import router as org_admin_router
from services.gateway.orgs.routes import router as orgs_router
from services.gateway.orgs.team_routes import accept_router as invitations_router
from services.gateway.orgs.team_routes import router as team_router
from services.gateway.routes import router as proxy_router
from services.gateway.settings import GatewaySettings
from services.gateway.webhooks.accounts import AccountDirectory
from services.gateway.webhooks.routes import router as webhooks_router
from shared.app import create_app
from shared.runtime import Runtime


def create(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    async def open_http_client(app: FastAPI, runtime: Runtime) -> None:
        app.state.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.proxy_timeout_seconds, connect=5.0),
            follow_redirects=False,
        )

    async def close_clients(app: FastAPI, runtime: Runtime) -> None:
        await app.state.http.aclose()
        app.state.edge.hasher.close()

    app = create_app(
        SPEC,
        settings,
        routers=[
            accounts_router,
            two_factor_router,
            orgs_router,
            team_router,
            invitations_router,
            org_admin_router,
            internal_router,
            webhooks_router,
            deletion_router,
            proxy_router,
        ],
        description=(
            "The public API of Ojime: accounts, organizations and the "
            "organization paths served by the services behind it."
        ),
        on_startup=[open_http_client],
        on_shutdown=[close_clients],
    )
    app.state.edge = build_edge(settings, app.state.runtime)
    app.state.instagram_accounts = AccountDirectory()
    return app
