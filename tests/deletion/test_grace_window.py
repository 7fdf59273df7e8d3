"""An admin schedules the organization's deletion 24 hours out, any admin sees
and may cancel it, and when the time comes the purge starts, Redis or not."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.deletion.tasks import TASKS, work_kinds
from shared.runtime import Runtime
from shared.work import sweep
from shared.worker import run_burst
from tests.deletion.conftest import Caller

OpenCaller = Callable[..., Caller]


async def end_window_now(owner_engine: AsyncEngine, org_id: uuid.UUID) -> None:
    """Move the clock of the organization's grace window to its end."""
    async with owner_engine.begin() as connection:
        await connection.execute(
            text(
                "update deletion.work_items set due_at = now() "
                "where org_id = :org and state = 'pending'"
            ),
            {"org": org_id},
        )


async def sweep_and_run(runtime: Runtime) -> int:
    queued = await sweep(runtime, work_kinds)
    await run_burst(TASKS, runtime)
    return queued


async def purge_requests(owner_engine: AsyncEngine, org_id: uuid.UUID) -> list[str]:
    """The services the purge of the organization was asked of, so far."""
    async with owner_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "select destination from deletion.outbox "
                "where event_type = 'org.purge_requested' and org_id = :org "
                "order by destination"
            ),
            {"org": org_id},
        )
    return [row.destination for row in rows]


async def test_an_admin_schedules_deletion_a_day_out_and_every_admin_sees_it(
    caller: OpenCaller,
) -> None:
    org_id = uuid.uuid4()
    admin, other_admin = caller(org_id), caller(org_id)

    scheduled = await admin.request("POST", "/deletion")
    seen = await other_admin.request("GET", "/deletion")

    assert scheduled.status_code == 201
    body = scheduled.json()
    assert body["state"] == "scheduled"
    requested_at = datetime.fromisoformat(body["requested_at"])
    assert datetime.fromisoformat(body["due_at"]) - requested_at == timedelta(days=1)
    assert seen.status_code == 200
    assert seen.json() == body


async def test_an_organization_that_never_asked_shows_no_deletion(
    caller: OpenCaller,
) -> None:
    response = await caller(uuid.uuid4()).request("GET", "/deletion")

    assert response.status_code == 200
    assert response.json()["state"] == "none"


async def test_a_second_request_while_one_is_scheduled_is_a_conflict(
    caller: OpenCaller,
) -> None:
    org_id = uuid.uuid4()
    first = await caller(org_id).request("POST", "/deletion")

    second = await caller(org_id).request("POST", "/deletion")

    assert second.status_code == 409
    assert second.json()["error"]["code"] == "deletion_already_scheduled"
    status = await caller(org_id).request("GET", "/deletion")
    assert status.json()["due_at"] == first.json()["due_at"]


async def test_an_admin_cancels_within_the_window_and_may_schedule_again(
    caller: OpenCaller, owner_engine: AsyncEngine
) -> None:
    org_id = uuid.uuid4()
    admin = caller(org_id)
    await admin.request("POST", "/deletion")

    cancelled = await caller(org_id).request("DELETE", "/deletion")
    after_cancel = await admin.request("GET", "/deletion")
    again = await admin.request("POST", "/deletion")

    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["cancelled_at"] is not None
    assert after_cancel.json()["state"] == "cancelled"
    assert again.status_code == 201
    assert again.json()["state"] == "scheduled"
    assert (await admin.request("GET", "/deletion")).json() == again.json()


async def test_cancelling_with_nothing_scheduled_is_a_conflict(
    caller: OpenCaller,
) -> None:
    response = await caller(uuid.uuid4()).request("DELETE", "/deletion")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_deletion_scheduled"


async def test_a_member_or_the_api_token_cannot_schedule_or_cancel(
    caller: OpenCaller,
) -> None:
    org_id = uuid.uuid4()
    member = caller(org_id, "member")
    token = caller(org_id, person=False)

    refused = [
        await member.request("POST", "/deletion"),
        await token.request("POST", "/deletion"),
        await member.request("GET", "/deletion"),
    ]
    await caller(org_id).request("POST", "/deletion")
    refused.append(await member.request("DELETE", "/deletion"))

    assert [response.status_code for response in refused] == [403] * 4
    state = (await caller(org_id).request("GET", "/deletion")).json()["state"]
    assert state == "scheduled"


async def test_another_organizations_deletion_answers_404(
    caller: OpenCaller,
) -> None:
    other_org = uuid.uuid4()
    await caller(other_org).request("POST", "/deletion")
    intruder = caller(uuid.uuid4(), address=other_org)

    responses = [
        await intruder.request(method, "/deletion")
        for method in ("GET", "POST", "DELETE")
    ]

    assert [response.status_code for response in responses] == [404] * 3
    state = (await caller(other_org).request("GET", "/deletion")).json()["state"]
    assert state == "scheduled"


async def test_nothing_starts_before_the_window_ends(
    caller: OpenCaller, runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org_id = uuid.uuid4()
    await caller(org_id).request("POST", "/deletion")

    await sweep_and_run(runtime)

    state = (await caller(org_id).request("GET", "/deletion")).json()["state"]
    assert state == "scheduled"
    assert await purge_requests(owner_engine, org_id) == []


async def test_when_the_window_ends_the_purge_starts_though_redis_was_flushed(
    caller: OpenCaller, runtime: Runtime, owner_engine: AsyncEngine, redis: Redis
) -> None:
    org_id = uuid.uuid4()
    admin = caller(org_id)
    await admin.request("POST", "/deletion")
    await redis.flushdb()

    await end_window_now(owner_engine, org_id)
    await sweep_and_run(runtime)

    status = (await admin.request("GET", "/deletion")).json()
    assert status["state"] == "purging"
    assert status["started_at"] is not None
    services = ["ai_agent", "contacts", "deletion", "gateway"]
    assert await purge_requests(owner_engine, org_id) == services


async def test_a_started_purge_cannot_be_cancelled_or_asked_for_again(
    caller: OpenCaller, runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org_id = uuid.uuid4()
    admin = caller(org_id)
    await admin.request("POST", "/deletion")
    await end_window_now(owner_engine, org_id)
    await sweep_and_run(runtime)

    cancel = await admin.request("DELETE", "/deletion")
    again = await admin.request("POST", "/deletion")

    assert [cancel.status_code, again.status_code] == [409, 409]
    codes = {cancel.json()["error"]["code"], again.json()["error"]["code"]}
    assert codes == {"deletion_already_running"}
    assert (await admin.request("GET", "/deletion")).json()["state"] == "purging"


async def test_a_cancelled_deletion_never_purges_when_its_time_would_have_come(
    caller: OpenCaller, runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org_id = uuid.uuid4()
    admin = caller(org_id)
    await admin.request("POST", "/deletion")
    await admin.request("DELETE", "/deletion")

    async with owner_engine.begin() as connection:
        await connection.execute(
            text("update deletion.work_items set due_at = now() where org_id = :org"),
            {"org": org_id},
        )
    await sweep_and_run(runtime)

    assert (await admin.request("GET", "/deletion")).json()["state"] == "cancelled"
    assert await purge_requests(owner_engine, org_id) == []


async def test_the_purge_starts_once_though_its_wake_up_runs_twice(
    caller: OpenCaller, runtime: Runtime, owner_engine: AsyncEngine
) -> None:
    org_id = uuid.uuid4()
    await caller(org_id).request("POST", "/deletion")
    await end_window_now(owner_engine, org_id)
    await sweep_and_run(runtime)

    async with owner_engine.begin() as connection:
        await connection.execute(
            text(
                "update deletion.work_items set state = 'pending', due_at = now() "
                "where org_id = :org"
            ),
            {"org": org_id},
        )
    await sweep_and_run(runtime)

    assert len(await purge_requests(owner_engine, org_id)) == 4
