"""The organization's API token: shown once, one organization, admin less the
person-only paths, and dead the moment it is replaced."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.gateway.browser import Browser
from tests.stand_ins.front_end import connect_organization, join
from tests.stand_ins.meta_graph import MetaGraph


@pytest.fixture
async def program(gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A program calling the API: no cookie, no CSRF token, only a bearer."""
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        yield client


async def _new_token(admin: Browser, org_id: str) -> str:
    answer = await admin.post(f"/api/orgs/{org_id}/api-token")
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_the_token_is_shown_once_and_opens_its_organization(
    admin: Browser, org_id: str, program: httpx.AsyncClient
) -> None:
    before = (await admin.get(f"/api/orgs/{org_id}/api-token")).json()
    created = await admin.post(f"/api/orgs/{org_id}/api-token")
    token = created.json()["token"]
    status = await admin.get(f"/api/orgs/{org_id}/api-token")
    as_program = await program.get(f"/api/orgs/{org_id}", headers=_bearer(token))
    assert before == {"exists": False, "created_at": None, "created_by": None}
    assert created.headers["cache-control"] == "no-store"
    assert status.json()["exists"] is True
    assert status.json()["created_at"] == created.json()["created_at"]
    assert token not in status.text
    assert as_program.status_code == 200
    assert as_program.json()["id"] == org_id
    assert as_program.json()["role"] == "admin"


async def test_a_regenerated_token_fails_on_the_very_next_request(
    admin: Browser, org_id: str, program: httpx.AsyncClient
) -> None:
    path = f"/api/orgs/{org_id}"
    old = await _new_token(admin, org_id)
    assert (await program.get(path, headers=_bearer(old))).status_code == 200
    new = await _new_token(admin, org_id)
    refused = await program.get(path, headers=_bearer(old))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "not_authenticated"
    assert (await program.get(path, headers=_bearer(new))).status_code == 200


async def test_a_revoked_token_fails_at_once(
    admin: Browser, org_id: str, program: httpx.AsyncClient
) -> None:
    token = await _new_token(admin, org_id)
    revoked = await admin.delete(f"/api/orgs/{org_id}/api-token")
    answer = await program.get(f"/api/orgs/{org_id}", headers=_bearer(token))
    assert revoked.status_code == 204
    assert answer.status_code == 401
    status = (await admin.get(f"/api/orgs/{org_id}/api-token")).json()
    assert status["exists"] is False


async def test_a_token_gets_404_on_another_organizations_paths(
    admin: Browser,
    org_id: str,
    meta: MetaGraph,
    new_browser: Callable[[], Browser],
    program: httpx.AsyncClient,
) -> None:
    other_admin = new_browser()
    await other_admin.sign_up()
    other_org = (await connect_organization(other_admin, meta))["id"]
    token = await _new_token(admin, org_id)
    for path in ("", "/audit", "/members", "/billing", "/contacts", "/api-token"):
        answer = await program.get(
            f"/api/orgs/{other_org}{path}", headers=_bearer(token)
        )
        assert answer.status_code == 404, path


def _person_only_paths(org: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/api/orgs/{org}"
    return [
        ("PATCH", base, {"name": "Renamed by a script"}),
        ("GET", f"{base}/members", None),
        ("DELETE", f"{base}/members/{org}", None),
        ("POST", f"{base}/invitations", {"email": "x@example.com"}),
        ("GET", f"{base}/invitations", None),
        ("GET", f"{base}/api-token", None),
        ("POST", f"{base}/api-token", None),
        ("DELETE", f"{base}/api-token", None),
        ("GET", f"{base}/integrations", None),
        ("PUT", f"{base}/integrations/stripe", {"access_token": "sk_live_x"}),
        ("DELETE", f"{base}/integrations/stripe", None),
        ("GET", f"{base}/billing", None),
        ("PUT", f"{base}/billing", {"name": "Acme"}),
        ("DELETE", f"{base}/deletion", None),
    ]


async def test_the_token_cannot_reach_team_billing_token_or_integrations(
    admin: Browser, org_id: str, program: httpx.AsyncClient
) -> None:
    token = await _new_token(admin, org_id)
    for method, path, body in _person_only_paths(org_id):
        answer = await program.request(method, path, json=body, headers=_bearer(token))
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "person_only", (method, path)
    assert (await program.get("/api/orgs", headers=_bearer(token))).status_code == 403
    still = await program.get(f"/api/orgs/{org_id}/api-token", headers=_bearer(token))
    assert still.status_code == 403
    audit = await program.get(f"/api/orgs/{org_id}/audit", headers=_bearer(token))
    assert audit.status_code == 200


async def test_a_member_cannot_make_a_token(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    member = new_browser()
    await join(admin, member, org_id)
    answer = await member.post(f"/api/orgs/{org_id}/api-token")
    assert answer.status_code == 403


async def test_the_token_is_stored_only_as_a_keyed_hash(
    admin: Browser, org_id: str, owner_engine: AsyncEngine
) -> None:
    token = await _new_token(admin, org_id)
    async with owner_engine.connect() as connection:
        stored = await connection.scalar(
            text("select token_hash from gateway.api_tokens where org_id = :org"),
            {"org": org_id},
        )
    assert bytes(stored) != hashlib.sha256(token.encode()).digest()
    assert token.encode() not in bytes(stored)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ojm_nothing", "Bearer ojm_" + "0" * 32 + "_" + "a" * 43],
)
async def test_a_malformed_or_unknown_bearer_gets_401(
    org_id: str, program: httpx.AsyncClient, header: str
) -> None:
    answer = await program.get(f"/api/orgs/{org_id}", headers={"authorization": header})
    assert answer.status_code == 401
