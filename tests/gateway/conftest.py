"""A real gateway on loopback, and browsers that talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from services.gateway.app import create as create_gateway
from tests.conftest import Stores
from tests.gateway.browser import Browser
from tests.loopback import serve
from tests.stand_ins.front_end import connect_organization, join
from tests.stand_ins.meta_graph import MetaGraph, running_meta_graph


@pytest.fixture
async def meta() -> AsyncIterator[MetaGraph]:
    """A stand-in for Meta's Graph API on loopback."""
    async with running_meta_graph() as graph:
        yield graph


@pytest.fixture
async def gateway_url(
    stores: Stores, redis: Redis, meta: MetaGraph
) -> AsyncIterator[str]:
    # bcrypt's cost is lowered so the suite stays quick; test_accounts checks
    # the default cost on its own.
    async with serve(create_gateway(meta.gateway_settings())) as url:
        yield url


@pytest.fixture
async def browser(gateway_url: str) -> AsyncIterator[Browser]:
    opened = Browser(gateway_url)
    yield opened
    await opened.aclose()


@pytest.fixture
async def new_browser(gateway_url: str) -> AsyncIterator[Callable[[], Browser]]:
    opened: list[Browser] = []

    def open_browser() -> Browser:
        opened.append(Browser(gateway_url))
        return opened[-1]

    yield open_browser
    for each in opened:
        await each.aclose()


@pytest.fixture
async def admin(new_browser: Callable[[], Browser]) -> Browser:
    """A signed-up person, about to connect an organization."""
    browser = new_browser()
    await browser.sign_up()
    return browser


@pytest.fixture
async def org_id(admin: Browser, meta: MetaGraph) -> str:
    """An organization that ``admin`` connected and runs."""
    return str((await connect_organization(admin, meta))["id"])


@pytest.fixture
async def member(
    admin: Browser, org_id: str, new_browser: Callable[[], Browser]
) -> Browser:
    """A member (not an admin) of ``admin``'s organization."""
    browser = new_browser()
    await join(admin, browser, org_id)
    return browser
