"""Two-factor sign-in: enrolment, codes, recovery codes, and no replays."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyotp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.gateway.browser import PASSWORD, Browser


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


async def _enrol(browser: Browser) -> tuple[str, str, list[str]]:
    """Sign up and turn two-factor on; the email, secret and recovery codes."""
    email = (await browser.sign_up())["user"]["email"]
    setup = (await browser.post("/api/auth/2fa/setup")).json()
    enabled = await browser.post(
        "/api/auth/2fa/enable", json={"code": _code(setup["secret"])}
    )
    assert enabled.status_code == 200, enabled.text
    return email, setup["secret"], enabled.json()["recovery_codes"]


async def test_enrolment_gives_a_secret_and_ten_single_use_codes(
    browser: Browser, owner_engine: AsyncEngine
) -> None:
    email = (await browser.sign_up())["user"]["email"]
    setup = (await browser.post("/api/auth/2fa/setup")).json()
    wrong = await browser.post("/api/auth/2fa/enable", json={"code": "000000"})
    enabled = await browser.post(
        "/api/auth/2fa/enable", json={"code": _code(setup["secret"])}
    )
    me = (await browser.get("/api/auth/me")).json()
    async with owner_engine.connect() as connection:
        stored = await connection.scalar(
            text("select totp_secret from gateway.users where email = :email"),
            {"email": email},
        )
    assert setup["otpauth_uri"].startswith("otpauth://totp/Ojime")
    assert wrong.status_code == 401
    assert len(set(enabled.json()["recovery_codes"])) == 10
    assert me["user"]["two_factor_enabled"] is True
    assert setup["secret"].encode() not in stored


async def test_login_asks_for_the_code_and_accepts_it(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email, secret, _ = await _enrol(browser)
    phone = new_browser()
    without = await phone.log_in(email)
    wrong = await phone.log_in(email, code="123456")
    right = await phone.log_in(email, code=_code(secret, steps_ahead=1))
    assert without.status_code == 401
    assert without.json()["error"]["code"] == "two_factor_required"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert (await phone.get("/api/auth/me")).status_code == 200


async def test_a_code_cannot_be_used_twice(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email, secret, _ = await _enrol(browser)
    code = _code(secret, steps_ahead=1)
    assert (await new_browser().log_in(email, code=code)).status_code == 200
    replay = await new_browser().log_in(email, code=code)
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "invalid_two_factor_code"


async def test_a_recovery_code_works_once(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email, _, codes = await _enrol(browser)
    first = await new_browser().log_in(email, recovery_code=codes[0])
    reused = await new_browser().log_in(email, recovery_code=codes[0])
    another = await new_browser().log_in(email, recovery_code=codes[1].upper())
    assert first.status_code == 200
    assert reused.status_code == 401
    assert another.status_code == 200


async def test_a_wrong_password_with_a_right_code_still_fails(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email, secret, _ = await _enrol(browser)
    answer = await new_browser().log_in(
        email, "not the password at all", code=_code(secret, steps_ahead=1)
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_credentials"


async def test_regenerated_recovery_codes_replace_the_old_ones(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email, secret, old_codes = await _enrol(browser)
    fresh = await browser.post(
        "/api/auth/2fa/recovery-codes", json={"code": _code(secret, steps_ahead=1)}
    )
    new_codes: list[str] = fresh.json()["recovery_codes"]
    assert (
        await new_browser().log_in(email, recovery_code=old_codes[0])
    ).status_code == 401
    assert (
        await new_browser().log_in(email, recovery_code=new_codes[0])
    ).status_code == 200


async def test_turning_two_factor_off_needs_password_and_code(
    browser: Browser, new_browser: Callable[[], Browser]
) -> None:
    email, _, codes = await _enrol(browser)
    body: dict[str, Any] = {"password": "wrong wrong wrong", "recovery_code": codes[0]}
    refused = await browser.post("/api/auth/2fa/disable", json=body)
    no_code = await browser.post("/api/auth/2fa/disable", json={"password": PASSWORD})
    done = await browser.post(
        "/api/auth/2fa/disable", json={"password": PASSWORD, "recovery_code": codes[0]}
    )
    assert refused.status_code == 403
    assert no_code.status_code == 401
    assert done.status_code == 204
    assert (await new_browser().log_in(email)).status_code == 200


async def test_setup_twice_once_enabled_is_a_conflict(browser: Browser) -> None:
    await _enrol(browser)
    again = await browser.post("/api/auth/2fa/setup")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "two_factor_already_enabled"
