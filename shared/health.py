"""Liveness and readiness, the same on every service."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from shared.errors import error_response
from shared.runtime import Runtime

router = APIRouter(prefix="/health", tags=["health"])

_CHECK_TIMEOUT_SECONDS = 2.0


class HealthRead(BaseModel):
    status: str
    checks: dict[str, str]


async def _database_answers(runtime: Runtime) -> bool:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_SECONDS):
            async with runtime.engine.connect() as connection:
                await connection.execute(text("select 1"))
    except Exception:
        return False
    return True


async def _redis_answers(runtime: Runtime) -> bool:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT_SECONDS):
            await runtime.redis.ping()
    except Exception:
        return False
    return True


@router.get("/live", response_model=HealthRead)
async def live() -> HealthRead:
    """The process is up and serving."""
    return HealthRead(status="ok", checks={})


@router.get(
    "/ready",
    response_model=HealthRead,
    responses={503: {"description": "A store this service needs does not answer"}},
)
async def ready(request: Request) -> HealthRead | JSONResponse:
    """The service can do its work: its database and Redis both answer."""
    runtime: Runtime = request.app.state.runtime
    database, redis = await asyncio.gather(
        _database_answers(runtime), _redis_answers(runtime)
    )
    checks = {
        "database": "ok" if database else "unavailable",
        "redis": "ok" if redis else "unavailable",
    }
    if database and redis:
        return HealthRead(status="ok", checks=checks)
    failed = [{"check": name} for name, state in checks.items() if state != "ok"]
    return error_response(
        503, "not_ready", "A store this service needs does not answer.", failed
    )
