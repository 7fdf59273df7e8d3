"""What Ojime's front-end does for a person, step by step, over HTTP."""

from __future__ import annotations

from typing import Any

from tests.gateway.browser import Browser
from tests.stand_ins.meta_graph import REDIRECT_URI, MetaGraph, SharedPage


async def connect_organization(
    browser: Browser, meta: MetaGraph, page: SharedPage | None = None
) -> dict[str, Any]:
    """Share one Page with Meta, then connect it: a new organization."""
    code = meta.authorize(page or meta.page())
    answer = await browser.post(
        "/api/orgs/connect/instagram",
        json={"code": code, "redirect_uri": REDIRECT_URI},
    )
    assert answer.status_code == 201, answer.text
    organization: dict[str, Any] = answer.json()
    return organization


async def invitation_token(
    admin: Browser, org_id: str, email: str, role: str = "member"
) -> str:
    """Invite ``email`` and read the token from the link the admin passes on."""
    answer = await admin.post(
        f"/api/orgs/{org_id}/invitations", json={"email": email, "role": role}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["accept_url"]).partition("#token=")[2]


async def join(
    admin: Browser, newcomer: Browser, org_id: str, role: str = "member"
) -> str:
    """Sign ``newcomer`` up and into the organization; their user id."""
    signed_up = await newcomer.sign_up()
    token = await invitation_token(admin, org_id, signed_up["user"]["email"], role)
    accepted = await newcomer.post("/api/invitations/accept", json={"token": token})
    assert accepted.status_code == 200, accepted.text
    return str(signed_up["user"]["id"])
