"""Through the gateway: only an admin who re-enters their password (and code)
schedules a deletion, any admin sees and cancels it, and the log says so."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyotp

from tests.gateway.browser import PASSWORD, Browser
from tests.stand_ins.front_end import join


async def audit_actions(admin: Browser, org_id: str) -> list[dict[str, Any]]:
    page = (await admin.get(f"/api/orgs/{org_id}/audit")).json()
    return [entry for entry in page["items"] if entry["action"].startswith("deletion")]


async def test_an_admin_with_the_password_schedules_and_another_admin_cancels(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> None:
    other_admin = new_browser()
    await join(admin, other_admin, org_id, role="admin")
    path = f"/api/orgs/{org_id}/deletion"

    scheduled = await admin.post(path, json={"password": PASSWORD})
    seen = await other_admin.get(path)
    cancelled = await other_admin.delete(path)

    assert scheduled.status_code == 201, scheduled.text
    assert seen.json()["due_at"] == scheduled.json()["due_at"]
    assert cancelled.status_code == 200
    assert (await admin.get(path)).json()["state"] == "cancelled"
    log = await audit_actions(admin, org_id)
    assert [entry["action"] for entry in log] == [
        "deletion_cancelled",
        "deletion_scheduled",
    ]
    assert log[1]["details"] == {"due_at": scheduled.json()["due_at"]}


async def test_a_wrong_password_schedules_nothing(admin: Browser, org_id: str) -> None:
    path = f"/api/orgs/{org_id}/deletion"

    refused = await admin.post(path, json={"password": "not the password"})

    assert refused.status_code == 403
    assert (await admin.get(path)).json()["state"] == "none"
    assert await audit_actions(admin, org_id) == []


async def test_a_member_cannot_schedule_even_with_their_password(
    admin: Browser, org_id: str, member: Browser
) -> None:
    path = f"/api/orgs/{org_id}/deletion"

    refused = await member.post(path, json={"password": PASSWORD})

    assert refused.status_code == 403
    assert (await admin.get(path)).json()["state"] == "none"


async def test_with_two_factor_on_the_code_is_needed_too(
    admin: Browser, org_id: str
) -> None:
    setup = (await admin.post("/api/auth/2fa/setup")).json()
    totp = pyotp.TOTP(setup["secret"])
    enabled = await admin.post("/api/auth/2fa/enable", json={"code": totp.now()})
    assert enabled.status_code == 200, enabled.text
    path = f"/api/orgs/{org_id}/deletion"

    without_code = await admin.post(path, json={"password": PASSWORD})
    state_after_refusal = (await admin.get(path)).json()["state"]
    next_code = totp.at(time.time() + 30)
    with_code = await admin.post(path, json={"password": PASSWORD, "code": next_code})

    assert without_code.status_code == 401
    assert without_code.json()["error"]["code"] == "two_factor_required"
    assert state_after_refusal == "none"
    assert with_code.status_code == 201, with_code.text
