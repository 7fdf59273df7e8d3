"""Meta's Graph API as the profile of an Instagram-scoped id, on loopback.

``GET /v21.0/{igsid}?fields=...&access_token=...`` answers the fields asked
for, as Meta does for a person who wrote to the account, or misbehaves as
told: hangs until released, or fails with Meta's transient error.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.loopback import serve

Behaviour = Literal["hang", "unavailable"]


@dataclass
class GraphProfiles:
    """The stand-in's profiles, the token it accepts, and what it was asked."""

    token: str
    url: str = ""
    behaviour: Behaviour | None = None
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def graph_url(self) -> str:
        return f"{self.url}/v21.0"

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v21.0/{igsid}", self._profile)])

    def release(self) -> None:
        self._released.set()

    async def _profile(self, request: Request) -> Response:
        igsid = request.path_params["igsid"]
        self.asked.append(igsid)
        if self.behaviour == "hang":
            await self._released.wait()
        if self.behaviour == "unavailable":
            return _error(2, "An unexpected error has occurred.", status=500)
        if request.query_params.get("access_token") != self.token:
            return _error(190, "Invalid OAuth access token.", status=400)
        profile = self.profiles.get(igsid)
        if profile is None:
            return _error(100, "Unsupported get request.", status=400)
        wanted = request.query_params.get("fields", "").split(",")
        return JSONResponse(
            {"id": igsid, **{k: v for k, v in profile.items() if k in wanted}}
        )


@contextlib.asynccontextmanager
async def running_graph_profiles(token: str) -> AsyncIterator[GraphProfiles]:
    graph = GraphProfiles(token=token)
    async with contextlib.AsyncExitStack() as stack:
        graph.url = await stack.enter_async_context(serve(graph.app()))
        stack.callback(graph.release)
        yield graph


def _error(code: int, message: str, *, status: int) -> Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    return JSONResponse(body, status_code=status)
