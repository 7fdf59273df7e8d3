"""Inviting people, their roles, and the one admin an organization keeps."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.gateway.browser import Browser
from tests.stand_ins.front_end import invitation_token, join

ACCEPT = "/api/invitations/accept"


async def _admin_id(admin: Browser) -> str:
    return str((await admin.get("/api/auth/me")).json()["user"]["id"])


async def _accept(browser: Browser, token: str) -> tuple[int, str]:
    answer = await browser.post(ACCEPT, json={"token": token})
    code = answer.json()["error"]["code"] if answer.is_error else ""
    return answer.status_code, code


async def test_an_invitation_link_lets_its_email_join_once(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    newcomer = new_browser()
    email = (await newcomer.sign_up())["user"]["email"]
    invited = await admin.post(
        f"/api/orgs/{org_id}/invitations", json={"email": email.upper()}
    )
    token = invited.json()["accept_url"].partition("#token=")[2]
    pending = (await admin.get(f"/api/orgs/{org_id}/invitations")).json()
    joined = await newcomer.post(ACCEPT, json={"token": token})
    members = (await admin.get(f"/api/orgs/{org_id}/members")).json()
    assert invited.status_code == 201
    assert invited.headers["cache-control"] == "no-store"
    assert [(item["email"], item["role"]) for item in pending] == [(email, "member")]
    assert "accept_url" not in pending[0]
    assert joined.status_code == 200
    assert joined.json()["id"] == org_id and joined.json()["role"] == "member"
    assert sorted(member["role"] for member in members) == ["admin", "member"]
    assert (await admin.get(f"/api/orgs/{org_id}/invitations")).json() == []
    assert await _accept(newcomer, token) == (410, "invitation_used")


async def test_an_invitation_expires_after_its_time(
    admin: Browser,
    org_id: str,
    new_browser: Callable[[], Browser],
    owner_engine: AsyncEngine,
) -> None:
    newcomer = new_browser()
    email = (await newcomer.sign_up())["user"]["email"]
    invited = await admin.post(f"/api/orgs/{org_id}/invitations", json={"email": email})
    body = invited.json()
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["created_at"]
    )
    async with owner_engine.begin() as connection:
        await connection.execute(
            text(
                "update gateway.invitations set expires_at = now() - "
                "interval '1 second' where id = :id"
            ),
            {"id": body["id"]},
        )
    token = body["accept_url"].partition("#token=")[2]
    assert lifetime == timedelta(hours=72)
    assert await _accept(newcomer, token) == (410, "invitation_expired")
    assert (await admin.get(f"/api/orgs/{org_id}/invitations")).json() == []


async def test_a_revoked_invitation_no_longer_works(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    newcomer = new_browser()
    email = (await newcomer.sign_up())["user"]["email"]
    token = await invitation_token(admin, org_id, email)
    invitation_id = (await admin.get(f"/api/orgs/{org_id}/invitations")).json()[0]
    revoked = await admin.delete(
        f"/api/orgs/{org_id}/invitations/{invitation_id['id']}"
    )
    assert revoked.status_code == 204
    assert await _accept(newcomer, token) == (410, "invitation_revoked")
    assert (await newcomer.get(f"/api/orgs/{org_id}")).status_code == 404


async def test_inviting_an_email_again_replaces_its_link(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    newcomer = new_browser()
    email = (await newcomer.sign_up())["user"]["email"]
    first = await invitation_token(admin, org_id, email)
    second = await invitation_token(admin, org_id, email, role="admin")
    pending = (await admin.get(f"/api/orgs/{org_id}/invitations")).json()
    assert len(pending) == 1
    assert await _accept(newcomer, first) == (410, "invitation_revoked")
    assert await _accept(newcomer, second) == (200, "")
    assert (await newcomer.get(f"/api/orgs/{org_id}")).json()["role"] == "admin"


async def test_an_invitation_is_for_its_email_only(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    invitee, other = new_browser(), new_browser()
    email = (await invitee.sign_up())["user"]["email"]
    await other.sign_up()
    token = await invitation_token(admin, org_id, email)
    assert await _accept(other, token) == (403, "invitation_for_another_email")
    assert (await other.get(f"/api/orgs/{org_id}")).status_code == 404
    assert await _accept(invitee, token) == (200, "")


async def test_a_forged_or_foreign_token_finds_nothing(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    newcomer = new_browser()
    email = (await newcomer.sign_up())["user"]["email"]
    token = await invitation_token(admin, org_id, email)
    prefix, org_hex, secret = token.split("_", 2)
    forged = [
        "nonsense",
        f"{prefix}_{org_hex}_{'A' * len(secret)}",
        f"{prefix}_{uuid.uuid4().hex}_{secret}",
        f"ojm_{org_hex}_{secret}",
    ]
    for candidate in forged:
        assert await _accept(newcomer, candidate) == (404, "invitation_not_found")
    assert await _accept(newcomer, token) == (200, "")


async def test_accepting_needs_a_signed_in_person(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    token = await invitation_token(admin, org_id, "someone@example.com")
    answer = await new_browser().post(ACCEPT, json={"token": token})
    assert answer.status_code == 401


async def test_the_link_token_is_stored_only_as_a_hash(
    admin: Browser, org_id: str, owner_engine: AsyncEngine
) -> None:
    token = await invitation_token(admin, org_id, "hashed@example.com")
    async with owner_engine.connect() as connection:
        row = (
            await connection.execute(
                text("select * from gateway.invitations where org_id = :org"),
                {"org": org_id},
            )
        ).one()
    assert bytes(row.token_hash) == hashlib.sha256(token.encode()).digest()
    assert token not in repr(tuple(row))


async def test_inviting_a_member_is_a_conflict(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    member = new_browser()
    await join(admin, member, org_id)
    email = (await member.get("/api/auth/me")).json()["user"]["email"]
    answer = await admin.post(f"/api/orgs/{org_id}/invitations", json={"email": email})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "already_member"


async def test_a_lowered_role_counts_from_the_next_request(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    deputy = new_browser()
    deputy_id = await join(admin, deputy, org_id, role="admin")
    members_path = f"/api/orgs/{org_id}/members"
    before = await deputy.get(members_path)
    lowered = await admin.request(
        "PATCH", f"{members_path}/{deputy_id}", json={"role": "member"}
    )
    after = await deputy.get(members_path)
    assert before.status_code == 200
    assert lowered.status_code == 200 and lowered.json()["role"] == "member"
    assert after.status_code == 403
    assert (await deputy.get(f"/api/orgs/{org_id}")).json()["role"] == "member"


async def test_a_removed_member_is_out_from_the_next_request(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    member = new_browser()
    member_id = await join(admin, member, org_id)
    assert (await member.get(f"/api/orgs/{org_id}")).status_code == 200
    removed = await admin.delete(f"/api/orgs/{org_id}/members/{member_id}")
    assert removed.status_code == 204
    assert (await member.get(f"/api/orgs/{org_id}")).status_code == 404
    assert (await member.get("/api/orgs")).json() == []
    again = await admin.delete(f"/api/orgs/{org_id}/members/{member_id}")
    assert again.json()["error"]["code"] == "member_not_found"


async def test_a_member_may_leave_but_not_remove_others(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    member = new_browser()
    member_id = await join(admin, member, org_id)
    admin_id = await _admin_id(admin)
    removing_admin = await member.delete(f"/api/orgs/{org_id}/members/{admin_id}")
    left = await member.delete(f"/api/orgs/{org_id}/members/{member_id}")
    assert removing_admin.status_code == 403
    assert left.status_code == 204
    assert (await member.get(f"/api/orgs/{org_id}")).status_code == 404


async def test_the_last_admin_can_neither_leave_nor_step_down(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    admin_id = await _admin_id(admin)
    path = f"/api/orgs/{org_id}/members/{admin_id}"
    leaving = await admin.delete(path)
    stepping_down = await admin.request("PATCH", path, json={"role": "member"})
    for answer in (leaving, stepping_down):
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "last_admin"
    await join(admin, new_browser(), org_id, role="admin")
    stepped_down = await admin.request("PATCH", path, json={"role": "member"})
    assert stepped_down.status_code == 200


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    deputy = new_browser()
    deputy_id = await join(admin, deputy, org_id, role="admin")
    admin_id = await _admin_id(admin)
    base = f"/api/orgs/{org_id}/members"
    answers = await asyncio.gather(
        admin.request("PATCH", f"{base}/{deputy_id}", json={"role": "member"}),
        deputy.request("PATCH", f"{base}/{admin_id}", json={"role": "member"}),
    )
    statuses = sorted(answer.status_code for answer in answers)
    survivor = admin if answers[0].status_code == 200 else deputy
    roles = [member["role"] for member in (await survivor.get(base)).json()]
    assert statuses == [200, 409] or statuses == [200, 403]
    assert roles.count("admin") == 1


async def test_members_are_listed_with_role_and_two_factor(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    member_id = await join(admin, new_browser(), org_id)
    members = (await admin.get(f"/api/orgs/{org_id}/members")).json()
    by_id = {member["user_id"]: member for member in members}
    assert by_id[member_id]["role"] == "member"
    assert by_id[member_id]["two_factor_enabled"] is False
    assert by_id[await _admin_id(admin)]["role"] == "admin"
    unknown = await admin.request(
        "PATCH", f"/api/orgs/{org_id}/members/{uuid.uuid4()}", json={"role": "admin"}
    )
    assert unknown.status_code == 404
    bad_role = await admin.request(
        "PATCH", f"/api/orgs/{org_id}/members/{member_id}", json={"role": "owner"}
    )
    assert bad_role.status_code == 422
