"""Every service says it is ready only when its database and Redis answer."""

from __future__ import annotations

import httpx
import pytest

from deploy.embedded import free_port
from services.registry import SERVICES
from shared.service import ServiceSpec
from tests.conftest import Stores


async def _get(spec: ServiceSpec, path: str) -> httpx.Response:
    app_module = __import__(f"{spec.package}.app", fromlist=["create"])
    app = app_module.create()
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as c:
            return await c.get(path)
    finally:
        await app.state.runtime.close()


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
async def test_every_service_is_live_and_ready(
    stores: Stores, spec: ServiceSpec
) -> None:
    assert (await _get(spec, "/health/live")).status_code == 200
    ready = await _get(spec, "/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_a_service_without_redis_is_live_but_not_ready(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    contacts = SERVICES[0]
    assert (await _get(contacts, "/health/live")).status_code == 200
    ready = await _get(contacts, "/health/ready")
    assert ready.status_code == 503
    body = ready.json()["error"]
    assert body["code"] == "not_ready"
    assert body["details"] == [{"check": "redis"}]


async def test_a_service_without_its_database_is_not_ready(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    )
    ready = await _get(SERVICES[0], "/health/ready")
    assert ready.status_code == 503
    assert ready.json()["error"]["details"] == [{"check": "database"}]
