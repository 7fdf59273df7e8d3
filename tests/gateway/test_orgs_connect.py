"""Connecting an Instagram account through Meta makes an organization."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.embedded import free_port
from services.gateway.app import create as create_gateway
from tests.conftest import Stores
from tests.gateway.browser import Browser
from tests.loopback import serve
from tests.stand_ins.front_end import connect_organization
from tests.stand_ins.log_reader import read_logs
from tests.stand_ins.meta_graph import REDIRECT_URI, MetaGraph

CONNECT = "/api/orgs/connect/instagram"


async def _connect(browser: Browser, code: str, **extra: str) -> httpx.Response:
    return await browser.post(
        CONNECT, json={"code": code, "redirect_uri": REDIRECT_URI, **extra}
    )


async def test_connecting_an_account_makes_the_caller_its_admin(
    browser: Browser, meta: MetaGraph
) -> None:
    await browser.sign_up()
    page = meta.page("corner_bakery")
    connected = await connect_organization(browser, meta, page)
    listed = (await browser.get("/api/orgs")).json()
    fetched = await browser.get(f"/api/orgs/{connected['id']}")
    assert connected["role"] == "admin"
    assert connected["instagram_username"] == "corner_bakery"
    assert connected["instagram_account_id"] == page.instagram_id
    assert connected["name"] == "corner_bakery"
    assert [org["id"] for org in listed] == [connected["id"]]
    assert fetched.json() == connected
    assert meta.calls == ["code_exchange", "long_lived_exchange", "pages"]


async def test_the_page_token_is_stored_sealed(
    browser: Browser, meta: MetaGraph, owner_engine: AsyncEngine
) -> None:
    await browser.sign_up()
    page = meta.page()
    org = await connect_organization(browser, meta, page)
    async with owner_engine.connect() as connection:
        stored = await connection.scalar(
            text(
                "select token_ciphertext from gateway.integrations "
                "where org_id = :org and provider = 'instagram'"
            ),
            {"org": org["id"]},
        )
    assert stored is not None
    assert page.token.encode() not in bytes(stored)


async def test_an_account_connected_already_is_refused(
    browser: Browser, new_browser: Callable[[], Browser], meta: MetaGraph
) -> None:
    await browser.sign_up()
    page = meta.page()
    await connect_organization(browser, meta, page)
    rival = new_browser()
    await rival.sign_up()
    answer = await _connect(rival, meta.authorize(page))
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "instagram_account_taken"
    assert (await rival.get("/api/orgs")).json() == []


async def test_two_connections_of_one_account_at_once_make_one_organization(
    new_browser: Callable[[], Browser], meta: MetaGraph
) -> None:
    page = meta.page()
    people = [new_browser() for _ in range(4)]
    for person in people:
        await person.sign_up()
    answers = await asyncio.gather(
        *(_connect(person, meta.authorize(page)) for person in people)
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409]


@pytest.mark.parametrize("case", ["unknown", "used", "other_redirect_uri"])
async def test_a_code_meta_refuses_is_a_clear_400(
    browser: Browser, meta: MetaGraph, case: str
) -> None:
    await browser.sign_up()
    used = meta.authorize(meta.page())
    await _connect(browser, used)
    code = {
        "unknown": "AQ" + uuid.uuid4().hex,
        "used": used,
        "other_redirect_uri": meta.authorize(
            meta.page(), redirect_uri="https://elsewhere.test/cb"
        ),
    }[case]
    answer = await _connect(browser, code)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "instagram_code_rejected"


async def test_a_page_without_instagram_is_a_clear_400(
    browser: Browser, meta: MetaGraph
) -> None:
    await browser.sign_up()
    answer = await _connect(browser, meta.authorize(meta.page(username="")))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "instagram_account_not_found"


async def test_several_shared_accounts_need_a_choice(
    browser: Browser, meta: MetaGraph
) -> None:
    await browser.sign_up()
    first, second = meta.page("first_shop"), meta.page("second_shop")
    unclear = await _connect(browser, meta.authorize(first, second))
    chosen = await _connect(
        browser,
        meta.authorize(first, second),
        instagram_account_id=str(second.instagram_id),
    )
    error = unclear.json()["error"]
    assert unclear.status_code == 400
    assert error["code"] == "instagram_account_choice_needed"
    assert {choice["username"] for choice in error["details"]} == {
        "first_shop",
        "second_shop",
    }
    assert chosen.status_code == 201
    assert chosen.json()["instagram_username"] == "second_shop"


async def test_a_wrong_app_secret_is_a_502_not_the_callers_fault(
    stores: Stores, meta: MetaGraph
) -> None:
    app = create_gateway(meta.gateway_settings(meta_app_secret="not-the-secret"))
    async with serve(app) as url:
        browser = Browser(url)
        await browser.sign_up()
        answer = await _connect(browser, meta.authorize(meta.page()))
        await browser.aclose()
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "meta_refused"


@pytest.mark.parametrize("failure", ["unavailable", "hang", "garbage"])
async def test_meta_failing_is_a_502(
    stores: Stores, meta: MetaGraph, failure: str
) -> None:
    app = create_gateway(meta.gateway_settings(meta_timeout_seconds=0.5))
    async with serve(app) as url:
        browser = Browser(url)
        await browser.sign_up()
        meta.failure = failure  # type: ignore[assignment]
        answer = await _connect(browser, meta.authorize(meta.page()))
        await browser.aclose()
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "meta_unavailable"


async def test_meta_unreachable_is_a_502(stores: Stores, meta: MetaGraph) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/v21.0"
    app = create_gateway(meta.gateway_settings(meta_graph_url=nowhere))
    async with serve(app) as url:
        browser = Browser(url)
        await browser.sign_up()
        answer = await _connect(browser, meta.authorize(meta.page()))
        await browser.aclose()
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "meta_unavailable"


async def test_without_meta_settings_connecting_is_a_503(
    stores: Stores, meta: MetaGraph
) -> None:
    app = create_gateway(meta.gateway_settings(meta_app_id=None))
    async with serve(app) as url:
        browser = Browser(url)
        await browser.sign_up()
        answer = await _connect(browser, meta.authorize(meta.page()))
        await browser.aclose()
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "meta_not_configured"


async def test_connecting_needs_a_person_signed_in_with_the_csrf_token(
    browser: Browser, new_browser: Callable[[], Browser], meta: MetaGraph
) -> None:
    await browser.sign_up()
    body = {"code": meta.authorize(meta.page()), "redirect_uri": REDIRECT_URI}
    anonymous = await new_browser().post(CONNECT, json=body)
    without_csrf = await browser.http.post(CONNECT, json=body)
    assert anonymous.status_code == 401
    assert without_csrf.status_code == 403
    assert meta.calls == []


async def test_no_code_token_or_secret_reaches_a_log_or_an_answer(
    browser: Browser, meta: MetaGraph
) -> None:
    with read_logs() as lines:
        await browser.sign_up()
        code = meta.authorize(meta.page())
        org = (await _connect(browser, code)).json()
        refused = await _connect(browser, code)
        shown = [
            await browser.get("/api/orgs"),
            await browser.get(f"/api/orgs/{org['id']}"),
            await browser.get(f"/api/orgs/{org['id']}/integrations"),
        ]
    everything = "\n".join([*lines, refused.text, *(answer.text for answer in shown)])
    assert any('"organization.connected"' in line for line in lines)
    assert any('"meta.refused"' in line for line in lines)
    assert refused.status_code == 400
    assert len(meta.secrets_issued()) == 5
    for secret in meta.secrets_issued():
        assert secret not in everything
