"""Internal services accept only a valid, unexpired identity meant for them."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.contacts import SPEC as CONTACTS
from services.contacts.app import create as create_contacts
from shared.crypto.keyring import KeyRing
from shared.identity import (
    IDENTITY_HEADER,
    Identity,
    sign_identity,
    user_identity,
    verify_identity,
)
from shared.runtime import Runtime
from shared.secrets import load_secrets
from tests.conftest import Stores

ORG = uuid.uuid4()


@pytest.fixture
async def contacts_app(stores: Stores) -> AsyncIterator[FastAPI]:
    app = create_contacts()
    yield app
    runtime: Runtime = app.state.runtime
    await runtime.close()


@pytest.fixture
def signing_keys(stores: Stores) -> KeyRing:
    return load_secrets(CONTACTS.settings()).internal_signing_keys


def _identity(**changes: object) -> Identity:
    identity = user_identity(
        issuer="gateway",
        audience="contacts",
        org_id=ORG,
        user_id=uuid.uuid4(),
        role="member",
        ttl_seconds=60,
    )
    return identity.model_copy(update=changes)


async def _status(app: FastAPI, token: str | None) -> tuple[int, dict[str, object]]:
    headers = {IDENTITY_HEADER: token} if token is not None else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
        answer = await client.get(f"/api/orgs/{ORG}/contacts", headers=headers)
    return answer.status_code, answer.json()


def _forged(token: str) -> str:
    payload, _, signature = token.rpartition(".")
    flipped = "A" if signature[0] != "A" else "B"
    return f"{payload}.{flipped}{signature[1:]}"


def _tampered(token: str, keys: KeyRing) -> str:
    # The claims of one identity with the signature of another.
    other = sign_identity(_identity(role="admin"), keys)
    return token.rpartition(".")[0] + "." + other.rpartition(".")[2]


async def test_a_valid_identity_passes(
    contacts_app: FastAPI, signing_keys: KeyRing
) -> None:
    status, body = await _status(contacts_app, sign_identity(_identity(), signing_keys))
    assert status == 200
    assert body["items"] == []


@pytest.mark.parametrize(
    "case", ["missing", "empty", "expired", "forged", "tampered", "wrong_key"]
)
async def test_a_flawed_identity_gets_401(
    contacts_app: FastAPI, signing_keys: KeyRing, case: str
) -> None:
    valid = sign_identity(_identity(), signing_keys)
    tokens: dict[str, str | None] = {
        "missing": None,
        "empty": "",
        "expired": sign_identity(_identity(expires_at=time.time() - 1), signing_keys),
        "forged": _forged(valid),
        "tampered": _tampered(
            sign_identity(_identity(role="member"), signing_keys), signing_keys
        ),
        "wrong_key": sign_identity(_identity(), KeyRing.generate()),
    }
    status, body = await _status(contacts_app, tokens[case])
    assert status == 401
    assert body["error"]["code"] == "not_authenticated"  # type: ignore[index]


async def test_an_identity_meant_for_another_service_gets_401(
    contacts_app: FastAPI, signing_keys: KeyRing
) -> None:
    token = sign_identity(_identity(audience="deletion"), signing_keys)
    status, _ = await _status(contacts_app, token)
    assert status == 401


async def test_every_path_is_guarded_but_health(contacts_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=contacts_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
        for path in ("/docs", "/openapi.json", "/nowhere", "/api"):
            assert (await client.get(path)).status_code == 401, path
        assert (await client.get("/health/live")).status_code == 200


def test_identities_still_verify_after_a_signing_key_is_added() -> None:
    old = KeyRing.generate()
    token = sign_identity(_identity(), old)
    rotated = old.with_new_key()
    assert verify_identity(token, rotated, "contacts").org_id == ORG
    fresh = sign_identity(_identity(), rotated)
    assert verify_identity(fresh, rotated, "contacts").org_id == ORG
    with pytest.raises(Exception, match="not valid"):
        verify_identity(fresh, old, "contacts")
