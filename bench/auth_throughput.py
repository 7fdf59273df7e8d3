"""Authenticated reads cost little more than unauthenticated ones.

Target: the throughput of ``GET /api/orgs/{org_id}`` signed in by cookie, and
by API token, is at least 0.85 of the same endpoint served with the member
check switched off. The check itself never runs bcrypt.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bench.harness import Figure, alternate, report
from bench.loadgen import requests_per_second
from bench.servers import gateway_process
from bench.stores import scratch_stores
from services.gateway import SPEC as GATEWAY
from services.gateway.orgs.api_tokens import regenerate
from shared.db import async_url, unit_of_work
from shared.runtime import open_runtime

SECONDS_PER_RUN = 3.0
TARGET = 0.85
ORIGIN = "http://127.0.0.1:8000"


async def _signed_in_cookie(url: str) -> tuple[str, uuid.UUID]:
    async with httpx.AsyncClient(base_url=url, headers={"origin": ORIGIN}) as client:
        answer = await client.post(
            "/api/auth/signup",
            json={
                "name": "Bench",
                "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                "password": "a long enough bench password",
            },
        )
        answer.raise_for_status()
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return cookie, uuid.UUID(answer.json()["user"]["id"])


async def _organization_of(database_url: str, user_id: uuid.UUID) -> uuid.UUID:
    """An organization with the user as admin, made directly in the tables."""
    org_id = uuid.uuid4()
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "insert into gateway.organizations (id, name, instagram_account_id, "
                "instagram_username, require_two_factor, created_at) "
                "values (:id, 'Bench', :ig, 'bench', false, :now)"
            ),
            {"id": org_id, "ig": uuid.uuid4().hex, "now": datetime.now(UTC)},
        )
        await connection.execute(
            text(
                "insert into gateway.memberships (org_id, user_id, role, created_at) "
                "values (:org, :user, 'admin', now())"
            ),
            {"org": org_id, "user": user_id},
        )
    await engine.dispose()
    return org_id


async def _api_token(org_id: uuid.UUID, user_id: uuid.UUID) -> str:
    runtime = open_runtime(GATEWAY, GATEWAY.settings())
    try:
        async with unit_of_work(runtime.sessions, org_id) as db:
            return await regenerate(db, runtime.secrets.master_keys, org_id, by=user_id)
    finally:
        await runtime.close()


async def measure() -> list[Figure]:
    async with (
        scratch_stores() as env,
        gateway_process(env, mode="checked", rounds=4) as checked,
        gateway_process(env, mode="open", rounds=4) as open_url,
    ):
        cookie, user_id = await _signed_in_cookie(checked)
        org_id = await _organization_of(env["DATABASE_URL"], user_id)
        token = await _api_token(org_id, user_id)
        path = f"/api/orgs/{org_id}"

        def run(base: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
            return lambda: requests_per_second(
                base + path, headers, seconds=SECONDS_PER_RUN
            )

        baseline = run(open_url, {})
        by_cookie = await alternate(run(checked, {"Cookie": cookie}), baseline)
        by_token = await alternate(
            run(checked, {"Authorization": f"Bearer {token}"}), baseline
        )
    return [
        Figure("authenticated read by cookie, req/s", *by_cookie, target=TARGET),
        Figure("authenticated read by API token, req/s", *by_token, target=TARGET),
    ]


def main() -> None:
    report(asyncio.run(measure()))


if __name__ == "__main__":
    main()
