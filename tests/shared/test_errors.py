"""Every error of every service has one body shape, and none leaks a trace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from shared.app import create_app
from shared.errors import Conflict
from shared.service import ServiceSpec
from shared.settings import ServiceSettings
from tests.conftest import Stores

router = APIRouter()


class WidgetCreate(BaseModel):
    name: str
    size: int


class WidgetAlreadyExists(Conflict):
    code = "widget_already_exists"
    message = "A widget with this name exists."


@router.post("/widgets")
async def create_widget(widget: WidgetCreate) -> WidgetCreate:
    if widget.name == "taken":
        raise WidgetAlreadyExists()
    if widget.name == "boom":
        raise RuntimeError("database password is hunter2")
    return widget


@pytest.fixture
async def client(stores: Stores) -> AsyncIterator[httpx.AsyncClient]:
    spec = ServiceSpec(
        name="contacts",
        port=0,
        internal=False,
        title="Probe",
        package_dir=Path("."),
        settings_class=ServiceSettings,
    )
    app: FastAPI = create_app(spec, ServiceSettings(), routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as http:
        yield http
    await app.state.runtime.close()


def _assert_error_shape(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status
    body = answer.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == answer.headers["x-request-id"]


async def test_a_domain_error_answers_with_its_status_and_code(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/widgets", json={"name": "taken", "size": 1})
    _assert_error_shape(answer, 409, "widget_already_exists")


async def test_invalid_input_names_the_fields_but_never_echoes_them(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/widgets", json={"name": "x", "size": "s3cr3t"})
    _assert_error_shape(answer, 422, "validation_failed")
    assert answer.json()["error"]["details"][0]["location"] == ["body", "size"]
    assert "s3cr3t" not in answer.text


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 422, "validation_failed"),
        (b"\xff\xfe\x00", 400, "bad_request"),
        (b"[]", 422, "validation_failed"),
        (b'"text"', 422, "validation_failed"),
        (b"{}" * 10, 422, "validation_failed"),
    ],
)
async def test_malformed_bodies_get_a_4xx(
    client: httpx.AsyncClient, body: bytes, status: int, code: str
) -> None:
    answer = await client.post(
        "/widgets", content=body, headers={"content-type": "application/json"}
    )
    _assert_error_shape(answer, status, code)


async def test_unknown_paths_and_methods_use_the_same_shape(
    client: httpx.AsyncClient,
) -> None:
    _assert_error_shape(await client.get("/nowhere"), 404, "not_found")
    _assert_error_shape(await client.get("/widgets"), 405, "method_not_allowed")


async def test_an_unexpected_failure_is_a_plain_500_without_details(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/widgets", json={"name": "boom", "size": 1})
    _assert_error_shape(answer, 500, "internal_error")
    assert "hunter2" not in answer.text
    assert "Traceback" not in answer.text


async def test_a_caller_request_id_is_kept_when_it_is_sane(
    client: httpx.AsyncClient,
) -> None:
    kept = await client.get("/nowhere", headers={"x-request-id": "abc-123-def"})
    replaced = await client.get("/nowhere", headers={"x-request-id": "<script>"})
    assert kept.headers["x-request-id"] == "abc-123-def"
    assert replaced.headers["x-request-id"] != "<script>"
