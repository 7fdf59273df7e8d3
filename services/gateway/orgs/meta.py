"""Meta's Graph API, as far as connecting an Instagram professional account.

Facebook Login for Business hands the front-end an authorization code. The
gateway exchanges it for a short-lived user token, that for a long-lived user
token, and with it reads the Pages the person shared and the Instagram
professional account linked to each. A Page token read with a long-lived
user token does not expire, so it is the token that is kept.

No token, code or secret is ever logged: log lines name the step, the HTTP
status, Meta's error code and its ``fbtrace_id``, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import BaseModel, SecretStr, ValidationError

from services.gateway.orgs.errors import (
    InstagramCodeRejected,
    MetaNotConfigured,
    MetaRefused,
    MetaUnavailable,
)
from services.gateway.settings import GatewaySettings

log = structlog.get_logger(__name__)

PAGE_FIELDS = "id,name,access_token,instagram_business_account{id,username}"
# Meta's code for an invalid parameter; in the code exchange, the code itself.
_INVALID_PARAMETER = 100

Answer = TypeVar("Answer", bound=BaseModel)


class _TokenAnswer(BaseModel):
    access_token: SecretStr


class _InstagramAccount(BaseModel):
    id: str
    username: str = ""


class _Page(BaseModel):
    id: str
    access_token: SecretStr
    instagram_business_account: _InstagramAccount | None = None


class _PagesAnswer(BaseModel):
    data: list[_Page]


@dataclass(frozen=True)
class InstagramAccount:
    """An Instagram professional account, and the token of its Page."""

    account_id: str
    username: str
    page_token: SecretStr


class _GraphRefused(Exception):
    """Meta answered a 4xx with its error body."""

    def __init__(self, meta_code: int | None) -> None:
        super().__init__(f"Graph API error code {meta_code}")
        self.meta_code = meta_code


@dataclass(frozen=True)
class MetaApp:
    """The app Ojime is registered as with Meta, and how to reach Meta."""

    graph_url: str
    app_id: str
    app_secret: str = field(repr=False)
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> MetaApp:
        """The configured app; 503 while META_APP_ID or META_APP_SECRET is unset."""
        if not (settings.meta_app_id and settings.meta_app_secret):
            raise MetaNotConfigured()
        return cls(
            graph_url=settings.meta_graph_url,
            app_id=settings.meta_app_id,
            app_secret=settings.meta_app_secret,
            timeout_seconds=settings.meta_timeout_seconds,
        )


async def shared_accounts(
    client: httpx.AsyncClient, app: MetaApp, *, code: str, redirect_uri: str
) -> list[InstagramAccount]:
    """The Instagram accounts the person shared when they granted ``code``."""
    graph = _Graph(client, app)
    try:
        short_lived = await graph.exchange_code(code, redirect_uri)
    except _GraphRefused as exc:
        if exc.meta_code == _INVALID_PARAMETER:
            raise InstagramCodeRejected() from None
        raise MetaRefused() from None
    try:
        long_lived = await graph.long_lived(short_lived)
        return await graph.instagram_accounts(long_lived)
    except _GraphRefused:
        raise MetaRefused() from None


class _Graph:
    def __init__(self, client: httpx.AsyncClient, app: MetaApp) -> None:
        self.client = client
        self.app = app

    async def exchange_code(self, code: str, redirect_uri: str) -> SecretStr:
        params = {
            "client_id": self.app.app_id,
            "redirect_uri": redirect_uri,
            "client_secret": self.app.app_secret,
            "code": code,
        }
        body = await self._get("code_exchange", "oauth/access_token", params)
        return _parse(_TokenAnswer, body, "code_exchange").access_token

    async def long_lived(self, short_lived: SecretStr) -> SecretStr:
        params = {
            "grant_type": "fb_exchange_token",
            "client_id": self.app.app_id,
            "client_secret": self.app.app_secret,
            "fb_exchange_token": short_lived.get_secret_value(),
        }
        body = await self._get("long_lived_exchange", "oauth/access_token", params)
        return _parse(_TokenAnswer, body, "long_lived_exchange").access_token

    async def instagram_accounts(self, user_token: SecretStr) -> list[InstagramAccount]:
        body = await self._get(
            "pages",
            "me/accounts",
            {"fields": PAGE_FIELDS, "limit": "100"},
            bearer=user_token,
        )
        pages = _parse(_PagesAnswer, body, "pages").data
        return [
            InstagramAccount(
                account_id=page.instagram_business_account.id,
                username=page.instagram_business_account.username,
                page_token=page.access_token,
            )
            for page in pages
            if page.instagram_business_account is not None
        ]

    async def _get(
        self,
        step: str,
        path: str,
        params: dict[str, str],
        bearer: SecretStr | None = None,
    ) -> Any:
        url = f"{self.app.graph_url.rstrip('/')}/{path}"
        # The header keeps the user token out of the URL, which proxies log.
        headers = (
            {"authorization": f"Bearer {bearer.get_secret_value()}"} if bearer else {}
        )
        try:
            answer = await self.client.get(
                url, params=params, headers=headers, timeout=self.app.timeout_seconds
            )
        except httpx.TimeoutException:
            log.warning("meta.timeout", step=step)
            raise MetaUnavailable() from None
        except httpx.HTTPError as exc:
            log.warning("meta.unreachable", step=step, error_type=type(exc).__name__)
            raise MetaUnavailable() from None
        return _body(step, answer)


def _body(step: str, answer: httpx.Response) -> Any:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.is_success and isinstance(body, dict):
        return body
    error = body.get("error") if isinstance(body, dict) else None
    details = error if isinstance(error, dict) else {}
    log.warning(
        "meta.refused",
        step=step,
        status=answer.status_code,
        meta_code=details.get("code"),
        fbtrace_id=details.get("fbtrace_id"),
    )
    if answer.status_code >= 500 or not details:
        raise MetaUnavailable()
    meta_code = details.get("code")
    raise _GraphRefused(meta_code if isinstance(meta_code, int) else None)


def _parse(model: type[Answer], body: Any, step: str) -> Answer:
    try:
        return model.model_validate(body)
    except ValidationError:
        log.warning("meta.unexpected_answer", step=step)
        raise MetaUnavailable() from None
