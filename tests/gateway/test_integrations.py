"""Integrations keep their tokens sealed; only Ojime's services, proving who
they are, read the Instagram token back."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.settings import GatewaySettings
from shared.crypto.keyring import KeyRing
from shared.identity import (
    IDENTITY_HEADER,
    Identity,
    service_identity,
    sign_identity,
    user_identity,
)
from shared.secrets import load_secrets
from tests.conftest import Stores
from tests.gateway.browser import Browser
from tests.stand_ins.front_end import connect_organization
from tests.stand_ins.log_reader import read_logs
from tests.stand_ins.meta_graph import MetaGraph, SharedPage

STRIPE_TOKEN = "sk_live_51Hx" + "Q" * 40


@pytest.fixture
def page(meta: MetaGraph) -> SharedPage:
    return meta.page("tea_house")


@pytest.fixture
async def org_id(admin: Browser, meta: MetaGraph, page: SharedPage) -> str:
    return str((await connect_organization(admin, meta, page))["id"])


@pytest.fixture
def signing_keys(stores: Stores) -> KeyRing:
    return load_secrets(GatewaySettings()).internal_signing_keys


async def _stored_token(owner_engine: AsyncEngine, org: str, provider: str) -> bytes:
    async with owner_engine.connect() as connection:
        stored = await connection.scalar(
            text(
                "select token_ciphertext from gateway.integrations "
                "where org_id = :org and provider = :provider"
            ),
            {"org": org, "provider": provider},
        )
    return bytes(stored) if stored is not None else b""


async def test_listing_shows_what_is_connected_and_since_when(
    admin: Browser, org_id: str, page: SharedPage
) -> None:
    path = f"/api/orgs/{org_id}/integrations"
    before = {item["provider"]: item for item in (await admin.get(path)).json()}
    put = await admin.request(
        "PUT",
        f"{path}/stripe",
        json={"access_token": STRIPE_TOKEN, "external_account_id": "acct_1Nv0"},
    )
    after = {item["provider"]: item for item in (await admin.get(path)).json()}
    assert set(before) == {"instagram", "stripe", "shopify", "calendly"}
    assert before["instagram"]["connected"] is True
    assert before["instagram"]["external_account_id"] == page.instagram_id
    assert before["stripe"] == {
        "provider": "stripe",
        "connected": False,
        "external_account_id": None,
        "connected_at": None,
    }
    assert put.status_code == 200
    assert after["stripe"]["connected"] is True
    assert after["stripe"]["external_account_id"] == "acct_1Nv0"
    assert after["stripe"]["connected_at"] == put.json()["connected_at"]


async def test_a_token_is_stored_sealed_and_never_shown_or_logged(
    admin: Browser, org_id: str, owner_engine: AsyncEngine, page: SharedPage
) -> None:
    path = f"/api/orgs/{org_id}/integrations"
    with read_logs() as lines:
        answers = [
            await admin.request(
                "PUT", f"{path}/stripe", json={"access_token": STRIPE_TOKEN}
            ),
            await admin.get(path),
            await admin.request(
                "PUT", f"{path}/calendly", json={"access_token": STRIPE_TOKEN, "x": 1}
            ),
            await admin.get(f"/api/orgs/{org_id}/audit"),
        ]
    stored = await _stored_token(owner_engine, org_id, "stripe")
    seen = "\n".join([*lines, *(answer.text for answer in answers)])
    assert answers[0].status_code == 200 and answers[2].status_code == 422
    assert any('"integration.connected"' in line for line in lines)
    assert stored and STRIPE_TOKEN.encode() not in stored
    for token in (STRIPE_TOKEN, page.token):
        assert token not in seen


async def test_connecting_again_replaces_the_sealed_token(
    admin: Browser, org_id: str, owner_engine: AsyncEngine
) -> None:
    path = f"/api/orgs/{org_id}/integrations/shopify"
    await admin.request("PUT", path, json={"access_token": "shpat_first"})
    first = await _stored_token(owner_engine, org_id, "shopify")
    await admin.request("PUT", path, json={"access_token": "shpat_second"})
    second = await _stored_token(owner_engine, org_id, "shopify")
    assert first and second and first != second


async def test_disconnecting_deletes_the_ciphertext(
    admin: Browser, org_id: str, owner_engine: AsyncEngine
) -> None:
    path = f"/api/orgs/{org_id}/integrations/calendly"
    await admin.request("PUT", path, json={"access_token": "cal_live_token"})
    removed = await admin.delete(path)
    listed = (await admin.get(f"/api/orgs/{org_id}/integrations")).json()
    assert removed.status_code == 204
    assert await _stored_token(owner_engine, org_id, "calendly") == b""
    assert {item["provider"]: item["connected"] for item in listed}["calendly"] is False
    assert (await admin.delete(path)).status_code == 204


@pytest.mark.parametrize("provider", ["instagram", "mailchimp"])
async def test_only_known_providers_connect_by_token(
    admin: Browser, org_id: str, provider: str
) -> None:
    answer = await admin.request(
        "PUT",
        f"/api/orgs/{org_id}/integrations/{provider}",
        json={"access_token": "anything"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_failed"


def _service(org: str | None = None, **changes: object) -> Identity:
    identity = service_identity(
        issuer="contacts",
        audience="gateway",
        ttl_seconds=60,
        org_id=uuid.UUID(org) if org else None,
    )
    return identity.model_copy(update=changes)


async def _token_answer(
    gateway_url: str, org: str, headers: dict[str, str]
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        return await client.get(
            f"/internal/orgs/{org}/instagram-token", headers=headers
        )


async def test_a_service_reads_the_instagram_token(
    gateway_url: str, org_id: str, page: SharedPage, signing_keys: KeyRing
) -> None:
    for identity in (_service(), _service(org_id)):
        signed = sign_identity(identity, signing_keys)
        answer = await _token_answer(gateway_url, org_id, {IDENTITY_HEADER: signed})
        assert answer.status_code == 200
        assert answer.json() == {
            "org_id": org_id,
            "instagram_account_id": page.instagram_id,
            "access_token": page.token,
        }
        assert answer.headers["cache-control"] == "no-store"


async def test_anyone_but_a_service_gets_401_from_the_internal_path(
    gateway_url: str, org_id: str, admin: Browser, signing_keys: KeyRing
) -> None:
    api_token = (await admin.post(f"/api/orgs/{org_id}/api-token")).json()["token"]
    as_user = user_identity(
        issuer="gateway",
        audience="gateway",
        org_id=uuid.UUID(org_id),
        user_id=uuid.uuid4(),
        role="admin",
        ttl_seconds=60,
    )
    identities = {
        "user identity": sign_identity(as_user, signing_keys),
        "other audience": sign_identity(_service(audience="contacts"), signing_keys),
        "expired": sign_identity(_service(expires_at=time.time() - 1), signing_keys),
        "other keys": sign_identity(_service(), KeyRing.generate()),
    }
    attempts = {
        "nothing": {},
        "api token": {"authorization": f"Bearer {api_token}"},
        **{name: {IDENTITY_HEADER: value} for name, value in identities.items()},
    }
    for name, headers in attempts.items():
        answer = await _token_answer(gateway_url, org_id, headers)
        assert answer.status_code == 401, name
        assert answer.json()["error"]["code"] == "service_identity_required", name
    cookie = await admin.get(f"/internal/orgs/{org_id}/instagram-token")
    assert cookie.status_code == 401


async def test_a_service_identity_for_one_organization_reads_no_other(
    gateway_url: str, org_id: str, signing_keys: KeyRing
) -> None:
    signed = sign_identity(_service(str(uuid.uuid4())), signing_keys)
    answer = await _token_answer(gateway_url, org_id, {IDENTITY_HEADER: signed})
    unknown = await _token_answer(
        gateway_url,
        str(uuid.uuid4()),
        {IDENTITY_HEADER: sign_identity(_service(), signing_keys)},
    )
    assert answer.status_code == 403
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "instagram_not_connected"


async def test_no_public_path_returns_a_token_and_internal_paths_are_undocumented(
    gateway_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    schemas = document["components"]["schemas"]
    assert not [path for path in paths if path.startswith("/internal")]
    assert "/api/orgs/{org_id}/integrations" in paths
    assert "/api/orgs/connect/instagram" in paths
    assert "InstagramTokenRead" not in schemas
    assert "access_token" not in schemas["IntegrationRead"]["properties"]
