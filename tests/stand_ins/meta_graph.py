"""Meta's Graph API, as far as Facebook Login for Business goes, on loopback.

It answers the three calls the gateway makes to connect an Instagram account,
in the shapes and with the error bodies Meta documents:

- ``GET /oauth/access_token`` with ``client_id``, ``redirect_uri``,
  ``client_secret`` and ``code``: a short-lived user token.
- ``GET /oauth/access_token`` with ``grant_type=fb_exchange_token``: a
  long-lived user token.
- ``GET /me/accounts``: the Pages the person shared, each with its token and
  linked Instagram professional account, as many fields as were asked for.

It is stricter than Meta in one way: ``/me/accounts`` accepts only a
long-lived token, so a gateway that skips the exchange fails here.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from services.gateway.settings import GatewaySettings
from tests.loopback import serve

APP_ID = "738295016482731"
APP_SECRET = "stand-in-app-secret-9f1c"
REDIRECT_URI = "https://app.ojime.test/instagram/callback"

Failure = Literal["unavailable", "hang", "garbage"]


@dataclass
class SharedPage:
    """A Facebook Page the person shared, and its Instagram account if any."""

    page_id: str
    name: str
    instagram_id: str | None
    instagram_username: str
    token: str = field(default_factory=lambda: _token("EAAP"))


@dataclass
class _Grant:
    redirect_uri: str
    pages: list[SharedPage]
    used: bool = False


@dataclass
class MetaGraph:
    """The stand-in's state: what it issued, and how it should misbehave."""

    url: str = ""
    failure: Failure | None = None
    calls: list[str] = field(default_factory=list)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _short_lived: dict[str, list[SharedPage]] = field(default_factory=dict)
    _long_lived: dict[str, list[SharedPage]] = field(default_factory=dict)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def page(self, username: str | None = None) -> SharedPage:
        """A Page linked to a new Instagram account (none if ``username`` is "")."""
        username = f"shop_{secrets.token_hex(4)}" if username is None else username
        return SharedPage(
            page_id=_digits(15),
            name=f"{username or 'A Page'} on Facebook",
            instagram_id=f"1784{_digits(13)}" if username else None,
            instagram_username=username,
        )

    def authorize(self, *pages: SharedPage, redirect_uri: str = REDIRECT_URI) -> str:
        """The code Meta would hand the front-end once the person shares
        ``pages``."""
        code = _token("AQ")
        self._grants[code] = _Grant(redirect_uri, list(pages))
        return code

    def gateway_settings(self, **changes: Any) -> GatewaySettings:
        """Settings of a gateway that talks to this stand-in."""
        return GatewaySettings(
            **{
                "bcrypt_rounds": 4,
                "meta_graph_url": f"{self.url}/v21.0",
                "meta_app_id": APP_ID,
                "meta_app_secret": APP_SECRET,
                **changes,
            }
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v21.0/oauth/access_token", self._access_token),
                Route("/v21.0/me/accounts", self._accounts),
            ]
        )

    async def _access_token(self, request: Request) -> Response:
        failed = await self._failure()
        if failed is not None:
            return failed
        query = request.query_params
        if query.get("client_id") != APP_ID:
            return _error(101, "Error validating application. Invalid application ID.")
        if query.get("client_secret") != APP_SECRET:
            return _error(1, "Error validating client secret.")
        if query.get("grant_type") == "fb_exchange_token":
            return self._exchange(query.get("fb_exchange_token", ""))
        return self._redeem(query.get("code", ""), query.get("redirect_uri", ""))

    def _redeem(self, code: str, redirect_uri: str) -> Response:
        self.calls.append("code_exchange")
        grant = self._grants.get(code)
        if grant is None:
            return _error(100, "Invalid verification code format.", subcode=36007)
        if grant.used:
            return _error(100, "This authorization code has been used.", 36009)
        if grant.redirect_uri != redirect_uri:
            return _error(
                100,
                "Error validating verification code. Please make sure your "
                "redirect_uri is identical to the one you used in the OAuth "
                "dialog request",
                36008,
            )
        grant.used = True
        token = _token("EAAS")
        self._short_lived[token] = grant.pages
        return _token_answer(token, expires_in=5400)

    def _exchange(self, short_lived: str) -> Response:
        self.calls.append("long_lived_exchange")
        pages = self._short_lived.get(short_lived)
        if pages is None:
            return _error(190, "Invalid OAuth access token - Cannot parse access token")
        token = _token("EAAL")
        self._long_lived[token] = pages
        return _token_answer(token, expires_in=5_183_944)

    async def _accounts(self, request: Request) -> Response:
        failed = await self._failure()
        if failed is not None:
            return failed
        self.calls.append("pages")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token if scheme.lower() == "bearer" else ""
        pages = self._long_lived.get(
            token or request.query_params.get("access_token", "")
        )
        if pages is None:
            return _error(190, "Invalid OAuth access token - Cannot parse access token")
        fields = request.query_params.get("fields", "id,name")
        return JSONResponse(
            {
                "data": [_page_fields(page, fields) for page in pages],
                "paging": {"cursors": {"before": "QVFIUjBE", "after": "QVFIUmFm"}},
            }
        )

    async def _failure(self) -> Response | None:
        if self.failure == "unavailable":
            return _error(
                2,
                "An unexpected error has occurred. Please retry your request later.",
                status=500,
            )
        if self.failure == "garbage":
            return PlainTextResponse("<html>upstream connect error</html>")
        if self.failure == "hang":
            await self._released.wait()
        return None

    def secrets_issued(self) -> list[str]:
        """Every code and token this stand-in gave out, and the app secret."""
        pages = [page for grant in self._grants.values() for page in grant.pages]
        return [
            APP_SECRET,
            *self._grants,
            *self._short_lived,
            *self._long_lived,
            *(page.token for page in pages),
        ]

    def release(self) -> None:
        """Let every held request finish, so the server can stop."""
        self._released.set()


@contextlib.asynccontextmanager
async def running_meta_graph() -> AsyncIterator[MetaGraph]:
    """The stand-in, served on a free loopback port."""
    graph = MetaGraph()
    async with contextlib.AsyncExitStack() as stack:
        graph.url = await stack.enter_async_context(serve(graph.app()))
        stack.callback(graph.release)
        yield graph


def _page_fields(page: SharedPage, fields: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"id": page.page_id}
    if "name" in fields.split(","):
        answer["name"] = page.name
    if "access_token" in fields.split(","):
        answer["access_token"] = page.token
    if "instagram_business_account" in fields and page.instagram_id is not None:
        linked: dict[str, str] = {"id": page.instagram_id}
        if "username" in fields:
            linked["username"] = page.instagram_username
        answer["instagram_business_account"] = linked
    return answer


def _token_answer(token: str, *, expires_in: int) -> Response:
    return JSONResponse(
        {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    )


def _error(
    code: int, message: str, subcode: int | None = None, *, status: int = 400
) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": f"A{secrets.token_urlsafe(16)}",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if status >= 500:
        error["is_transient"] = True
    return JSONResponse({"error": error}, status_code=status)


def _token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(48).replace("-", "").replace("_", "")


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))
