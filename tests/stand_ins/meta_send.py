"""Meta's Send API for Instagram messaging, on loopback.

``POST /v21.0/{account}/messages`` (``account`` an Instagram account id or
``me``) with the Page token as a bearer token or ``access_token``, and a
JSON body of ``recipient``, ``message``, ``messaging_type`` and ``tag``.
It answers ``{"recipient_id", "message_id"}`` as Meta does, or Meta's
documented error bodies: a bad token (190), a recipient it does not know
(100 / 2018001), one who blocked the account (551), a message outside the
window without the human-agent tag (10 / 2018278), a text over 1,000 bytes
(100), and, when told, rate limits (4, 613) and transient errors (2).

Every send it accepted is in ``received``, in order; refused calls are in
``refused``.
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
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import serve

Trouble = Literal["rate_limit_app", "rate_limit_api", "transient"]
_TROUBLES: dict[str, tuple[int, str, int]] = {
    "rate_limit_app": (4, "Application request limit reached", 400),
    "rate_limit_api": (613, "Calls to this api have exceeded the rate limit.", 400),
    "transient": (2, "An unexpected error has occurred. Please retry.", 500),
}


@dataclass(frozen=True)
class Received:
    """One send the stand-in took."""

    recipient: str
    text: str
    messaging_type: str
    tag: str | None
    message_id: str


@dataclass
class MetaSendApi:
    """The token it accepts, the people it knows, and what it was sent."""

    token: str
    url: str = ""
    recipients: set[str] = field(default_factory=set)
    blocked: set[str] = field(default_factory=set)
    # Troubles to answer with, one a call, before the next call succeeds.
    troubles: list[Trouble] = field(default_factory=list)
    # While set, an accepted send is held before its answer, until released.
    hold: bool = False
    received: list[Received] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def graph_url(self) -> str:
        return f"{self.url}/v21.0"

    def app(self) -> Starlette:
        route = Route("/v21.0/{account}/messages", self._send, methods=["POST"])
        return Starlette(routes=[route])

    def release(self) -> None:
        self._released.set()

    async def _send(self, request: Request) -> Response:
        if self.troubles:
            code, message, status = _TROUBLES[self.troubles.pop(0)]
            return self._error(code, message, status=status)
        if _token(request) != self.token:
            return self._error(190, "Invalid OAuth access token.", status=400)
        try:
            body = await request.json()
            recipient = str(body["recipient"]["id"])
            text = str(body["message"]["text"])
        except (ValueError, KeyError, TypeError):
            return self._error(100, "Invalid parameter", status=400)
        refusal = self._refusal(recipient, text, body)
        if refusal is not None:
            return refusal
        return await self._accept(recipient, text, body)

    def _refusal(
        self, recipient: str, text: str, body: dict[str, Any]
    ) -> Response | None:
        if recipient in self.blocked:
            return self._error(551, "This person isn't available right now.")
        if recipient not in self.recipients:
            return self._error(100, "No matching user found", subcode=2018001)
        if len(text.encode()) > 1000:
            return self._error(
                100, "Length of param message[text] must be less than or equal to 1000"
            )
        if (
            body.get("messaging_type") == "MESSAGE_TAG"
            and body.get("tag") != "HUMAN_AGENT"
        ):
            return self._error(100, "Invalid tag", subcode=2018347)
        return None

    async def _accept(
        self, recipient: str, text: str, body: dict[str, Any]
    ) -> Response:
        message_id = f"aWdfZAG1faXRlbToxOklHTWVzc2FnZA{secrets.token_hex(16)}"
        self.received.append(
            Received(
                recipient=recipient,
                text=text,
                messaging_type=str(body.get("messaging_type")),
                tag=body.get("tag"),
                message_id=message_id,
            )
        )
        if self.hold:
            await self._released.wait()
        return JSONResponse({"recipient_id": recipient, "message_id": message_id})

    def _error(
        self, code: int, message: str, subcode: int | None = None, *, status: int = 400
    ) -> Response:
        self.refused.append(code)
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


def _token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return token
    return request.query_params.get("access_token", "")


@contextlib.asynccontextmanager
async def running_send_api(token: str) -> AsyncIterator[MetaSendApi]:
    """The stand-in, served on a free loopback port."""
    api = MetaSendApi(token=token)
    async with contextlib.AsyncExitStack() as stack:
        api.url = await stack.enter_async_context(serve(api.app()))
        stack.callback(api.release)
        yield api
