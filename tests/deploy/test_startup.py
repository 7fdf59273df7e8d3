"""``ojime run`` (what ``make run`` starts) brings up the whole system and
takes it down again, leaving no process behind.

These start the real runner, which starts the real services and workers as
processes of their own, on free ports, against this run's stores.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from services.registry import SERVICES
from shared.crypto.keyring import KeyRing
from shared.identity import IDENTITY_HEADER, service_identity, sign_identity
from tests.conftest import Stores
from tests.deploy.system import (
    RunningSystem,
    free_ports,
    runner_environment,
    running,
    still_alive,
)
from tests.gateway.browser import Browser
from tests.stand_ins.front_end import connect_organization
from tests.stand_ins.meta_graph import (
    APP_ID,
    APP_SECRET,
    MetaGraph,
    running_meta_graph,
)

INTERNAL = [spec.name for spec in SERVICES if spec.internal]


@pytest.fixture(scope="module")
async def meta() -> AsyncIterator[MetaGraph]:
    """Meta's Graph API on loopback, so that a person can make an organization."""
    async with running_meta_graph() as graph:
        yield graph


@pytest.fixture(scope="module")
def system(stores: Stores, meta: MetaGraph) -> Iterator[RunningSystem]:
    """One run against the test stores, shared by the checks that only look."""
    environment = runner_environment(free_ports(), stores.data_dir, embedded=False)
    environment.update(
        META_GRAPH_URL=f"{meta.url}/v21.0",
        META_APP_ID=APP_ID,
        META_APP_SECRET=APP_SECRET,
        GATEWAY_BCRYPT_ROUNDS="4",
    )
    with running(environment) as started:
        started.wait_until_ready()
        yield started


def _signing_keys(stores: Stores) -> KeyRing:
    stored = json.loads((stores.data_dir / "secrets.json").read_text())
    return KeyRing.parse(stored["internal_signing_keys"])


@pytest.mark.smoke
def test_the_runner_announces_the_gateway_and_its_docs(system: RunningSystem) -> None:
    gateway = system.wait_for_line(r"\| gateway: (\S+)$").group(1)
    docs = system.wait_for_line(r"\| API docs: (\S+)$").group(1)

    assert gateway == system.url("gateway")
    assert docs == f"{system.url('gateway')}/docs"
    page = httpx.get(docs)
    assert page.status_code == 200
    assert "swagger" in page.text.lower()


@pytest.mark.smoke
def test_every_service_is_ready_on_its_port(system: RunningSystem) -> None:
    for spec in SERVICES:
        answer = httpx.get(f"{system.url(spec.name)}/health/ready")

        assert answer.status_code == 200, spec.name
        assert answer.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.smoke
def test_output_is_one_column_of_sources_then_their_lines(
    system: RunningSystem,
) -> None:
    prefixed = [line for line in system.lines if " | " in line]
    sources = {line.split(" | ", 1)[0].rstrip() for line in prefixed}

    assert {line.index(" | ") for line in prefixed} == {len("ai_agent-worker")}
    assert {spec.name for spec in SERVICES} <= sources
    assert {"ojime", "migrate"} <= sources
    served = [line for line in prefixed if line.startswith("contacts ")]
    assert json.loads(served[0].split(" | ", 1)[1])["service"] == "contacts"


@pytest.mark.smoke
@pytest.mark.parametrize("service", INTERNAL)
def test_internal_service_refuses_a_request_without_identity(
    system: RunningSystem, service: str
) -> None:
    path = f"/api/orgs/{uuid.uuid4()}/contacts"

    answer = httpx.get(f"{system.url(service)}{path}")

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"


@pytest.mark.smoke
def test_internal_service_accepts_only_an_identity_addressed_to_it(
    system: RunningSystem, stores: Stores
) -> None:
    org_id = uuid.uuid4()
    keys = _signing_keys(stores)
    url = f"{system.url('contacts')}/api/orgs/{org_id}/contacts"

    def identity(audience: str) -> dict[str, str]:
        claims = service_identity(
            issuer="gateway", audience=audience, ttl_seconds=60, org_id=org_id
        )
        return {IDENTITY_HEADER: sign_identity(claims, keys)}

    elsewhere = httpx.get(url, headers=identity("deletion"))
    addressed = httpx.get(url, headers=identity("contacts"))

    assert elsewhere.status_code == 401
    assert addressed.status_code != 401
    assert addressed.json().get("error", {}).get("code") != "not_authenticated"


@pytest.mark.smoke
def test_gateway_asks_for_sign_in_on_the_paths_it_forwards(
    system: RunningSystem,
) -> None:
    org = f"{system.url('gateway')}/api/orgs/{uuid.uuid4()}"

    forwarded = httpx.get(f"{org}/contacts")
    unknown = httpx.get(f"{org}/no-such-area")

    assert forwarded.status_code == 401
    assert forwarded.json()["error"]["code"] == "not_authenticated"
    assert unknown.status_code == 404


@pytest.mark.smoke
async def test_gateway_forwards_a_members_request_to_the_owning_service(
    system: RunningSystem, meta: MetaGraph
) -> None:
    person = Browser(system.url("gateway"))
    async with person.http:
        await person.sign_up()
        org = await connect_organization(person, meta)
        answer = await person.get(f"/api/orgs/{org['id']}/contacts")

    [request_id] = answer.headers.get_list("x-request-id")
    served = await asyncio.to_thread(
        system.wait_for_line, rf'^contacts +\| .*"request_id": "{request_id}"', 10
    )
    assert answer.status_code != 401
    assert json.loads(served.string.split(" | ", 1)[1])["status"] == answer.status_code


@pytest.mark.smoke
def test_sigterm_stops_every_process_the_runner_started(stores: Stores) -> None:
    environment = runner_environment(free_ports(), stores.data_dir, embedded=False)
    with running(environment) as system:
        system.wait_until_ready()
        tree = system.process_tree()

        code = system.stop(signal.SIGTERM)

        assert code == 0, system.output()
        assert len(tree) >= 1 + 2 * len(SERVICES)
        assert still_alive(tree, timeout=5) == []
        assert system.lines[-1].endswith("| stopped")


def test_a_child_that_dies_stops_everything_with_an_error(stores: Stores) -> None:
    environment = runner_environment(free_ports(), stores.data_dir, embedded=False)
    with running(environment) as system:
        system.wait_until_ready()
        tree = system.process_tree()
        contacts = next(
            process
            for process in tree
            if process.cmdline()[-2:] == ["serve", "contacts"]
        )

        contacts.kill()
        code = system.wait()

        assert code == 1
        assert "contacts exited unexpectedly" in system.output()
        assert still_alive(tree, timeout=5) == []


def test_a_runner_killed_outright_takes_its_children_and_stores_along(
    data_dir: Path,
) -> None:
    environment = runner_environment(free_ports(), data_dir, embedded=True)
    with running(environment) as system:
        system.wait_until_ready()
        tree = system.process_tree()

        system.stop(signal.SIGKILL)

        assert still_alive(tree, timeout=10) == []
