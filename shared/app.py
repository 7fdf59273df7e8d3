"""The one factory that builds every service's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from shared import health, metrics
from shared.errors import install_error_handlers
from shared.logging import configure_logging
from shared.middleware import InternalIdentityMiddleware, RequestContextMiddleware
from shared.runtime import Runtime, open_runtime
from shared.service import ServiceSpec
from shared.settings import ServiceSettings

StartupHook = Callable[[FastAPI, Runtime], Awaitable[None]]


def create_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    routers: Sequence[APIRouter] = (),
    description: str = "",
    on_startup: Sequence[StartupHook] = (),
    on_shutdown: Sequence[StartupHook] = (),
) -> FastAPI:
    """A service application: its routes, health, errors, logs and identity."""
    configure_logging(spec.name, settings.log_level, settings.log_format)
    runtime = open_runtime(spec, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook(app, runtime)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app, runtime)
            await runtime.close()

    app = FastAPI(
        title=spec.title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for router in routers:
        app.include_router(router)
    if spec.internal:
        app.add_middleware(
            InternalIdentityMiddleware,
            keys=runtime.secrets.internal_signing_keys,
            audience=spec.name,
        )
    app.add_middleware(RequestContextMiddleware)
    return app
