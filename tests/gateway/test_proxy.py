"""The gateway forwards organization paths to the services, streaming both ways,
with an identity it signs itself."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from services.gateway.app import create as create_gateway
from services.gateway.auth import Member, current_member
from services.gateway.settings import GatewaySettings
from shared.crypto.keyring import KeyRing
from shared.identity import IDENTITY_HEADER, verify_identity
from shared.secrets import load_secrets
from tests.conftest import Stores
from tests.loopback import serve

ORG = uuid.uuid4()
USER = uuid.uuid4()
DOWNLOAD_CHUNKS = 64
CHUNK = os.urandom(64 * 1024)


def _echo_service(keys: KeyRing) -> Starlette:
    """A stand-in for an internal service that reports what reached it."""

    async def echo(request: Request) -> Response:
        identity = verify_identity(
            request.headers.get(IDENTITY_HEADER), keys, "contacts"
        )
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        answer = JSONResponse(
            {
                "path": request.url.path,
                "query": request.url.query,
                "org_id": str(identity.org_id),
                "user_id": str(identity.user_id),
                "role": identity.role,
                "sha256": digest.hexdigest(),
                "size": size,
                "cookie": request.headers.get("cookie"),
                "authorization": request.headers.get("authorization"),
                "request_id": request.headers.get("x-request-id"),
            }
        )
        answer.raw_headers += [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
        return answer

    async def download(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(DOWNLOAD_CHUNKS):
                yield CHUNK

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    return Starlette(
        routes=[
            Route("/api/orgs/{org}/contacts/download", download),
            Route("/api/orgs/{org}/contacts{rest:path}", echo, methods=["GET", "POST"]),
        ]
    )


def _as_member(org_id: uuid.UUID) -> Member:
    return Member(user_id=USER, org_id=org_id, role="admin")


@pytest.fixture
async def keys(stores: Stores) -> KeyRing:
    return load_secrets(GatewaySettings()).internal_signing_keys


@pytest.fixture
async def gateway_url(keys: KeyRing) -> AsyncIterator[str]:
    async with serve(_echo_service(keys)) as upstream:
        app = create_gateway(GatewaySettings(contacts_url=upstream))
        app.dependency_overrides[current_member] = _as_member
        async with serve(app) as url:
            yield url


async def test_a_large_upload_reaches_the_service_intact(gateway_url: str) -> None:
    body = os.urandom(5 * 1024 * 1024)

    async def upload() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 256 * 1024):
            yield body[start : start + 256 * 1024]

    async with httpx.AsyncClient(base_url=gateway_url) as client:
        answer = await client.post(
            f"/api/orgs/{ORG}/contacts/import?kind=csv", content=upload()
        )
    seen = answer.json()
    assert answer.status_code == 200
    assert seen["sha256"] == hashlib.sha256(body).hexdigest()
    assert seen["size"] == len(body)
    assert seen["path"] == f"/api/orgs/{ORG}/contacts/import"
    assert seen["query"] == "kind=csv"


async def test_a_large_answer_streams_back_intact(gateway_url: str) -> None:
    digest = hashlib.sha256()
    async with (
        httpx.AsyncClient(base_url=gateway_url) as client,
        client.stream("GET", f"/api/orgs/{ORG}/contacts/download") as answer,
    ):
        async for chunk in answer.aiter_bytes():
            digest.update(chunk)
    expected = hashlib.sha256(CHUNK * DOWNLOAD_CHUNKS).hexdigest()
    assert answer.status_code == 200
    assert digest.hexdigest() == expected


async def test_the_service_sees_the_member_not_what_the_caller_claims(
    gateway_url: str,
) -> None:
    forged = {
        IDENTITY_HEADER: "forged",
        "cookie": "session=secret",
        "authorization": "Bearer secret",
        "x-request-id": "req-from-the-caller-1",
    }
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        answer = await client.get(f"/api/orgs/{ORG}/contacts", headers=forged)
    seen = answer.json()
    assert (seen["org_id"], seen["user_id"], seen["role"]) == (
        str(ORG),
        str(USER),
        "admin",
    )
    assert seen["cookie"] is None and seen["authorization"] is None
    assert seen["request_id"] == answer.headers["x-request-id"]
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]


async def test_an_unreachable_service_answers_502(keys: KeyRing) -> None:
    from deploy.embedded import free_port

    nowhere = f"http://127.0.0.1:{free_port()}"
    app = create_gateway(GatewaySettings(contacts_url=nowhere))
    app.dependency_overrides[current_member] = _as_member
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        answer = await client.get(f"/api/orgs/{ORG}/contacts")
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "bad_gateway"


async def test_nobody_signed_in_gets_401_and_nothing_is_forwarded(
    stores: Stores,
) -> None:
    app: FastAPI = create_gateway()
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        answer = await client.post(f"/api/orgs/{ORG}/contacts", json={})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"


async def test_the_answer_carries_one_request_id(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        answer = await client.get(f"/api/orgs/{ORG}/contacts")
    assert len(answer.headers.get_list("x-request-id")) == 1
