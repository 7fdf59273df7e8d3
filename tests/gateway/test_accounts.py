"""Signing up, in and out, and what keeps a session safe."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.gateway.accounts.cookies import SessionCookieCodec
from services.gateway.app import create as create_gateway
from services.gateway.settings import GatewaySettings
from shared.crypto.keyring import KeyRing
from shared.secrets import load_secrets
from tests.conftest import Stores
from tests.gateway.browser import PASSWORD, Browser
from tests.loopback import serve

COOKIE = "ojime_session"


async def test_signing_up_signs_in_with_a_safe_cookie(browser: Browser) -> None:
    signed_up = await browser.sign_up("ada@example.com")
    me = await browser.get("/api/auth/me")
    cookie_header = (await browser.log_in("ada@example.com")).headers["set-cookie"]
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "ada@example.com"
    assert signed_up["user"]["two_factor_enabled"] is False
    for attribute in ("HttpOnly", "Path=/", "SameSite=lax"):
        assert attribute.lower() in cookie_header.lower()
    assert "domain" not in cookie_header.lower()


async def test_an_email_signs_up_once(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    await browser.sign_up("twice@example.com")
    again = await new_browser().post(
        "/api/auth/signup",
        json={"name": "B", "email": "TWICE@example.com", "password": PASSWORD},
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


@pytest.mark.parametrize(
    "password", ["short1", "password1234", "qwertyuiop", "1234567890"]
)
async def test_weak_passwords_are_refused(browser: Browser, password: str) -> None:
    answer = await browser.post(
        "/api/auth/signup",
        json={"name": "A", "email": "weak@example.com", "password": password},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "weak_password"


async def test_every_byte_of_a_long_password_counts(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    long_password = "ü" * 40 + "tail-one"  # 88 bytes, past bcrypt's 72
    await browser.sign_up("long@example.com", password=long_password)
    other = new_browser()
    wrong_tail = await other.log_in("long@example.com", "ü" * 40 + "tail-two")
    right = await other.log_in("long@example.com", long_password)
    assert wrong_tail.status_code == 401
    assert right.status_code == 200


async def test_a_huge_password_is_a_clear_4xx(browser: Browser) -> None:
    answer = await browser.post(
        "/api/auth/login", json={"email": "x@example.com", "password": "x" * 5000}
    )
    assert answer.status_code == 422


async def test_unknown_email_and_wrong_password_fail_alike(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    await browser.sign_up("known@example.com")
    client = new_browser()
    unknown = await client.log_in("nobody@example.com")
    wrong = await client.log_in("known@example.com", "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["error"]["code"] == wrong.json()["error"]["code"]
    assert unknown.json()["error"]["message"] == wrong.json()["error"]["message"]


async def test_login_issues_a_new_session_each_time(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    await browser.sign_up("fresh@example.com")
    first = browser.http.cookies[COOKIE]
    await browser.log_in("fresh@example.com")
    second = browser.http.cookies[COOKIE]
    sessions = (await browser.get("/api/auth/sessions")).json()
    assert first != second
    assert len(sessions) == 2
    assert sum(session["current"] for session in sessions) == 1


async def test_logout_ends_the_session_for_good(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    await browser.sign_up()
    stolen = browser.http.cookies[COOKIE]
    assert (await browser.post("/api/auth/logout")).status_code == 204
    thief = new_browser()
    thief.http.cookies.set(COOKIE, stolen)
    assert (await thief.get("/api/auth/me")).status_code == 401
    assert (await browser.get("/api/auth/me")).status_code == 401


def _flip_one_byte(cookie: str, position: int) -> str:
    flipped = "A" if cookie[position] != "A" else "B"
    return cookie[:position] + flipped + cookie[position + 1 :]


@pytest.mark.parametrize("position", [0, 20, -5])
async def test_a_cookie_with_one_flipped_byte_gets_401(
    browser: Browser, new_browser: Callable[[], Browser], position: int
) -> None:
    await browser.sign_up()
    forged = new_browser()
    cookie = browser.http.cookies[COOKIE]
    forged.http.cookies.set(COOKIE, _flip_one_byte(cookie, position % len(cookie)))
    answer = await forged.get("/api/auth/me")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"


async def test_a_cookie_made_with_other_keys_gets_401(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    await browser.sign_up()
    outsider = SessionCookieCodec(KeyRing.generate(), secure=False, max_age_seconds=60)
    forged = new_browser()
    forged.http.cookies.set(COOKIE, outsider.encode(b"\x00" * 32))
    assert (await forged.get("/api/auth/me")).status_code == 401


async def test_one_users_cookie_opens_only_that_users_account(
    new_browser: Callable[[], Browser],
) -> None:
    ada, bob = new_browser(), new_browser()
    await ada.sign_up("ada2@example.com")
    await bob.sign_up("bob2@example.com")
    bob.http.cookies.set(COOKIE, ada.http.cookies[COOKIE])
    assert (await bob.get("/api/auth/me")).json()["user"]["email"] == "ada2@example.com"


@pytest.mark.parametrize("column", ["expires_at", "last_seen_at"])
async def test_an_expired_or_idle_session_gets_401(
    browser: Browser, owner_engine: AsyncEngine, column: str
) -> None:
    signed_up = await browser.sign_up()
    async with owner_engine.begin() as connection:
        await connection.execute(
            text(
                f"update gateway.sessions set {column} = now() - interval '400 days' "
                "where user_id = :user"
            ),
            {"user": signed_up["user"]["id"]},
        )
    assert (await browser.get("/api/auth/me")).status_code == 401


async def test_a_cookie_past_its_lifetime_is_refused_even_if_the_row_lives(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    await browser.sign_up()
    codec = SessionCookieCodec(
        load_secrets(GatewaySettings()).cookie_keys,
        secure=False,
        max_age_seconds=14 * 24 * 3600,
    )
    token = codec.decode(browser.http.cookies[COOKIE])
    # The same session's token, in a cookie signed fifteen days ago.
    codec._signer.get_timestamp = lambda: int(time.time()) - 15 * 24 * 3600  # type: ignore[method-assign]
    aged = new_browser()
    aged.http.cookies.set(COOKIE, codec.encode(token))

    assert (await browser.get("/api/auth/me")).status_code == 200
    assert (await aged.get("/api/auth/me")).status_code == 401


async def test_a_password_change_signs_out_the_other_browser_only(
    new_browser: Callable[[], Browser],
) -> None:
    laptop, phone = new_browser(), new_browser()
    signed_up = await laptop.sign_up()
    email = signed_up["user"]["email"]
    assert (await phone.log_in(email)).status_code == 200
    changed = await laptop.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 200
    assert changed.json()["ended"] == 1
    assert (await laptop.get("/api/auth/me")).status_code == 200
    assert (await phone.get("/api/auth/me")).status_code == 401
    assert (await phone.log_in(email)).status_code == 401
    assert (await phone.log_in(email, "a brand new passphrase")).status_code == 200


async def test_a_password_change_needs_the_current_password(browser: Browser) -> None:
    await browser.sign_up()
    answer = await browser.post(
        "/api/auth/password",
        json={
            "current_password": "wrong wrong wrong",
            "new_password": "another one here",
        },
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "current_password_wrong"


async def test_a_user_lists_and_ends_sessions(
    new_browser: Callable[[], Browser],
) -> None:
    laptop, phone, tablet = new_browser(), new_browser(), new_browser()
    email = (await laptop.sign_up())["user"]["email"]
    await phone.log_in(email)
    await tablet.log_in(email)
    sessions = (await laptop.get("/api/auth/sessions")).json()
    phone_id = next(
        s["id"] for s in (await phone.get("/api/auth/sessions")).json() if s["current"]
    )
    assert len(sessions) == 3
    assert (await laptop.delete(f"/api/auth/sessions/{phone_id}")).status_code == 204
    assert (await phone.get("/api/auth/me")).status_code == 401
    assert (await laptop.delete(f"/api/auth/sessions/{phone_id}")).status_code == 404
    ended = await laptop.post("/api/auth/sessions/revoke-others")
    assert ended.json() == {"ended": 1}
    assert (await tablet.get("/api/auth/me")).status_code == 401
    assert (await laptop.get("/api/auth/me")).status_code == 200


async def test_another_users_session_cannot_be_ended(
    new_browser: Callable[[], Browser],
) -> None:
    ada, bob = new_browser(), new_browser()
    await ada.sign_up()
    await bob.sign_up()
    bob_session = (await bob.get("/api/auth/sessions")).json()[0]["id"]
    assert (await ada.delete(f"/api/auth/sessions/{bob_session}")).status_code == 404
    assert (await bob.get("/api/auth/me")).status_code == 200
    assert (await ada.delete(f"/api/auth/sessions/{uuid.uuid4()}")).status_code == 404


async def test_state_changes_without_the_csrf_token_are_refused(
    browser: Browser,
) -> None:
    await browser.sign_up()
    token = browser.csrf_token
    missing = await browser.http.post("/api/auth/sessions/revoke-others")
    wrong = await browser.http.post(
        "/api/auth/sessions/revoke-others", headers={"x-csrf-token": token[:-2] + "xx"}
    )
    foreign = await browser.http.post(
        "/api/auth/sessions/revoke-others",
        headers={"x-csrf-token": token, "origin": "https://evil.example"},
    )
    cross_site = await browser.http.post(
        "/api/auth/sessions/revoke-others",
        headers={"x-csrf-token": token, "sec-fetch-site": "cross-site", "origin": ""},
    )
    for answer in (missing, wrong, foreign, cross_site):
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "csrf_refused"
    assert (await browser.get("/api/auth/me")).status_code == 200
    allowed = await browser.post("/api/auth/sessions/revoke-others")
    assert allowed.status_code == 200


async def test_another_sessions_csrf_token_does_not_work(
    new_browser: Callable[[], Browser],
) -> None:
    laptop, phone = new_browser(), new_browser()
    email = (await laptop.sign_up())["user"]["email"]
    await phone.log_in(email)
    answer = await laptop.http.post(
        "/api/auth/sessions/revoke-others", headers={"x-csrf-token": phone.csrf_token}
    )
    assert answer.status_code == 403


async def test_a_login_from_another_site_is_refused(browser: Browser) -> None:
    await browser.sign_up("site@example.com")
    answer = await browser.http.post(
        "/api/auth/login",
        json={"email": "site@example.com", "password": PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert answer.status_code == 403


async def test_repeated_failures_are_throttled_per_account(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email = (await browser.sign_up())["user"]["email"]
    attacker = new_browser()
    for _ in range(5):
        assert (await attacker.log_in(email, "guess guess guess")).status_code == 401
    throttled = await attacker.log_in(email, "guess guess guess")
    even_right = await new_browser().log_in(email)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["error"]["code"] == "too_many_attempts"
    assert even_right.status_code == 429


async def test_a_successful_login_resets_the_account_count(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email = (await browser.sign_up())["user"]["email"]
    client = new_browser()
    for _ in range(4):
        await client.log_in(email, "guess guess guess")
    assert (await client.log_in(email)).status_code == 200
    for _ in range(4):
        assert (await client.log_in(email, "guess guess guess")).status_code == 401
    assert (await client.log_in(email)).status_code == 200


async def test_throttling_holds_per_address_across_accounts(
    gateway_url: str, new_browser: Callable[[], Browser]
) -> None:
    client = new_browser()
    answers = [
        await client.log_in(f"guess{n}@example.com", "guess guess guess")
        for n in range(21)
    ]
    assert [a.status_code for a in answers[:20]] == [401] * 20
    assert answers[20].status_code == 429


async def test_throttling_is_shared_by_gateway_processes(
    stores: object, new_browser: Callable[[], Browser], browser: Browser
) -> None:
    email = (await browser.sign_up())["user"]["email"]
    for _ in range(5):
        await new_browser().log_in(email, "guess guess guess")
    second = create_gateway(GatewaySettings(bcrypt_rounds=4))
    async with serve(second) as url, httpx.AsyncClient(base_url=url) as other:
        answer = await other.post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}
        )
    assert answer.status_code == 429


async def test_a_hash_is_upgraded_when_the_cost_rises(
    browser: Browser, owner_engine: AsyncEngine, stores: object
) -> None:
    email = (await browser.sign_up())["user"]["email"]
    stronger = create_gateway(GatewaySettings(bcrypt_rounds=5))
    async with serve(stronger) as url, httpx.AsyncClient(base_url=url) as client:
        answer = await client.post(
            "/api/auth/login", json={"email": email, "password": PASSWORD}
        )
    async with owner_engine.connect() as connection:
        stored = await connection.scalar(
            text("select password_hash from gateway.users where email = :email"),
            {"email": email},
        )
    assert answer.status_code == 200
    assert ",r=5$" in stored


async def test_the_default_cost_is_twelve(stores: object) -> None:
    app = create_gateway()
    hashed = await app.state.edge.hasher.hash("a reasonable passphrase")
    await app.state.runtime.close()
    assert ",r=12$" in hashed


async def test_concurrent_logins_do_not_block_each_other(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email = (await browser.sign_up())["user"]["email"]
    answers = await asyncio.gather(*(new_browser().log_in(email) for _ in range(8)))
    assert [a.status_code for a in answers] == [200] * 8


async def test_outside_development_the_cookie_is_secure_and_host_prefixed(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    development = load_secrets(GatewaySettings())
    monkeypatch.setenv("OJIME_ENV", "production")
    monkeypatch.setenv("OJIME_MASTER_KEYS", development.master_keys.serialize())
    monkeypatch.setenv("OJIME_COOKIE_KEYS", development.cookie_keys.serialize())
    monkeypatch.setenv(
        "OJIME_INTERNAL_SIGNING_KEYS", development.internal_signing_keys.serialize()
    )
    monkeypatch.setenv("GATEWAY_DB_PASSWORD", "given-by-the-operator")
    app = create_gateway(GatewaySettings(bcrypt_rounds=4))
    async with serve(app) as url:
        browser = Browser(url)
        await browser.sign_up()
        cookie = browser.http.cookies.jar
        set_cookie = [c for c in cookie if c.name.startswith("__Host-")]
        await browser.aclose()
    assert [c.name for c in set_cookie] == ["__Host-ojime_session"]
    assert set_cookie[0].secure
    assert set_cookie[0].path == "/"
    assert not set_cookie[0].domain_specified
