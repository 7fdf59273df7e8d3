"""An organization's settings, roles, billing profile and audit log."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pyotp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.gateway.browser import Browser
from tests.stand_ins.front_end import connect_organization, join
from tests.stand_ins.meta_graph import MetaGraph

STRIPE_CUSTOMER = "cus_Q8fPz3LmN0aBcD"


def _admin_paths(org: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/api/orgs/{org}"
    return [
        ("PATCH", base, {"name": "Renamed"}),
        ("GET", f"{base}/members", None),
        ("PATCH", f"{base}/members/{org}", {"role": "admin"}),
        ("DELETE", f"{base}/members/{org}", None),
        ("GET", f"{base}/invitations", None),
        ("POST", f"{base}/invitations", {"email": "x@example.com"}),
        ("DELETE", f"{base}/invitations/{org}", None),
        ("GET", f"{base}/api-token", None),
        ("POST", f"{base}/api-token", None),
        ("DELETE", f"{base}/api-token", None),
        ("GET", f"{base}/integrations", None),
        ("PUT", f"{base}/integrations/stripe", {"access_token": "sk_test_1"}),
        ("DELETE", f"{base}/integrations/stripe", None),
        ("GET", f"{base}/billing", None),
        ("PUT", f"{base}/billing", {"name": "Acme"}),
        ("GET", f"{base}/audit", None),
    ]


async def _call(
    browser: Browser, method: str, path: str, body: dict[str, Any] | None
) -> httpx.Response:
    return await browser.request(method, path, json=body)


async def test_a_member_sees_the_organization_with_their_role(
    member: Browser, org_id: str
) -> None:
    listed = (await member.get("/api/orgs")).json()
    fetched = await member.get(f"/api/orgs/{org_id}")
    assert [(org["id"], org["role"]) for org in listed] == [(org_id, "member")]
    assert fetched.status_code == 200
    assert fetched.json()["role"] == "member"


async def test_a_member_gets_403_on_every_admin_path(
    member: Browser, org_id: str
) -> None:
    for method, path, body in _admin_paths(org_id):
        answer = await _call(member, method, path, body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "admin_only", (method, path)


async def test_a_member_of_another_organization_gets_404_everywhere(
    admin: Browser,
    org_id: str,
    meta: MetaGraph,
    new_browser: Callable[[], Browser],
) -> None:
    stranger = new_browser()
    await stranger.sign_up()
    await connect_organization(stranger, meta)
    paths = [("GET", f"/api/orgs/{org_id}", None), *_admin_paths(org_id)]
    paths.append(("GET", f"/api/orgs/{org_id}/contacts", None))
    for method, path, body in paths:
        answer = await _call(stranger, method, path, body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["error"]["code"] == "not_found"


async def test_an_admin_renames_the_organization(admin: Browser, org_id: str) -> None:
    renamed = await admin.request(
        "PATCH", f"/api/orgs/{org_id}", json={"name": "Corner Bakery"}
    )
    assert renamed.status_code == 200
    assert (await admin.get(f"/api/orgs/{org_id}")).json()["name"] == "Corner Bakery"


async def test_requiring_two_factor_shuts_out_members_without_it(
    admin: Browser, org_id: str, member: Browser
) -> None:
    path = f"/api/orgs/{org_id}"
    refused = await admin.request("PATCH", path, json={"require_two_factor": True})
    setup = (await admin.post("/api/auth/2fa/setup")).json()
    code = pyotp.TOTP(setup["secret"]).now()
    assert (await admin.post("/api/auth/2fa/enable", json={"code": code})).is_success
    required = await admin.request("PATCH", path, json={"require_two_factor": True})
    member_answer = await member.get(path)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "two_factor_needed_first"
    assert required.status_code == 200
    assert required.json()["require_two_factor"] is True
    assert member_answer.status_code == 403
    assert (
        member_answer.json()["error"]["code"] == "two_factor_required_by_organization"
    )
    assert (await admin.get(path)).status_code == 200


async def test_a_settings_change_with_nothing_valid_is_a_clear_422(
    admin: Browser, org_id: str
) -> None:
    path = f"/api/orgs/{org_id}"
    for body in ({"name": ""}, {"name": "x" * 201}, {"owner": "me"}):
        answer = await admin.request("PATCH", path, json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == "validation_failed"


async def test_the_billing_profile_keeps_the_stripe_customer_sealed(
    admin: Browser, org_id: str, owner_engine: AsyncEngine
) -> None:
    path = f"/api/orgs/{org_id}/billing"
    empty = (await admin.get(path)).json()
    profile = {
        "name": "Corner Bakery Ltd",
        "address": "1 Market Street, Leeds",
        "tax_id": "GB123456789",
        "stripe_customer_id": STRIPE_CUSTOMER,
    }
    saved = await admin.request("PUT", path, json=profile)
    read_back = (await admin.get(path)).json()
    async with owner_engine.connect() as connection:
        sealed = await connection.scalar(
            text(
                "select stripe_customer_ciphertext from gateway.billing_profiles "
                "where org_id = :org"
            ),
            {"org": org_id},
        )
    assert empty["name"] == "" and empty["stripe_customer_id"] is None
    assert saved.status_code == 200
    assert {key: read_back[key] for key in profile} == profile
    assert STRIPE_CUSTOMER.encode() not in bytes(sealed)


async def test_a_malformed_stripe_customer_id_is_a_clear_422(
    admin: Browser, org_id: str
) -> None:
    answer = await admin.request(
        "PUT", f"/api/orgs/{org_id}/billing", json={"stripe_customer_id": "x; drop"}
    )
    assert answer.status_code == 422


async def _whole_log(browser: Browser, org: str, limit: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = (await browser.get(f"/api/orgs/{org}/audit", params=params)).json()
        assert len(page["items"]) <= limit
        entries.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return entries


async def test_the_audit_log_pages_newest_first_without_gaps_or_repeats(
    admin: Browser, org_id: str
) -> None:
    for number in range(5):
        await admin.request(
            "PATCH", f"/api/orgs/{org_id}", json={"name": f"Name {number}"}
        )
    paged = await _whole_log(admin, org_id, limit=2)
    at_once = (await admin.get(f"/api/orgs/{org_id}/audit")).json()["items"]
    times = [entry["created_at"] for entry in paged]
    assert paged == at_once
    assert len({entry["id"] for entry in paged}) == len(paged) == 6
    assert times == sorted(times, reverse=True)
    assert paged[-1]["action"] == "organization_connected"
    assert paged[0]["action"] == "organization_settings_changed"


async def test_a_cursor_the_api_did_not_give_is_a_clear_400(
    admin: Browser, org_id: str
) -> None:
    naive_time = base64.urlsafe_b64encode(
        f"2026-01-01T00:00:00|{uuid.uuid4()}".encode()
    )
    for cursor in ("not-a-cursor", "bm9wZXxub3Bl", naive_time.decode()):
        answer = await admin.get(f"/api/orgs/{org_id}/audit", params={"cursor": cursor})
        assert answer.status_code == 400, cursor
        assert answer.json()["error"]["code"] == "invalid_cursor"


async def test_the_audit_log_records_changes_but_no_secret(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    base = f"/api/orgs/{org_id}"
    token = (await admin.post(f"{base}/api-token")).json()["token"]
    await admin.request(
        "PUT", f"{base}/integrations/shopify", json={"access_token": "shpat_s3cr3t"}
    )
    await admin.request(
        "PUT", f"{base}/billing", json={"stripe_customer_id": STRIPE_CUSTOMER}
    )
    newcomer = new_browser()
    user_id = await join(admin, newcomer, org_id)
    email = (await newcomer.get("/api/auth/me")).json()["user"]["email"]
    await admin.request("PATCH", f"{base}/members/{user_id}", json={"role": "admin"})
    await admin.delete(f"{base}/members/{user_id}")
    await admin.delete(f"{base}/integrations/shopify")
    entries = await _whole_log(admin, org_id, limit=50)
    assert [entry["action"] for entry in reversed(entries)] == [
        "organization_connected",
        "api_token_regenerated",
        "integration_connected",
        "billing_profile_changed",
        "member_invited",
        "member_joined",
        "member_role_changed",
        "member_removed",
        "integration_disconnected",
    ]
    written = json.dumps(entries)
    for secret in (token, "shpat_s3cr3t", STRIPE_CUSTOMER, email):
        assert secret not in written
