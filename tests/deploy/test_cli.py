"""The ``ojime`` command line: production refusals, keys, migrations and rotation."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from deploy.embedded import postmaster_pid
from services.registry import SERVICES
from shared.crypto.data_keys import get_or_create_data_key, load_data_key
from shared.crypto.keyring import KeyRing
from shared.db import async_url, unit_of_work
from shared.secrets import ensure_development_secrets
from tests.conftest import Stores, create_database, drop_database

_PRODUCTION = {"OJIME_ENV": "production"}
_KEY_SETTINGS = (
    "OJIME_MASTER_KEYS",
    "OJIME_INTERNAL_SIGNING_KEYS",
    "OJIME_COOKIE_KEYS",
)


def _ojime(
    *arguments: str,
    data_dir: Path,
    settings: Mapping[str, str] | None = None,
    embedded: bool = False,
) -> subprocess.CompletedProcess[str]:
    left_out = {*_KEY_SETTINGS, *(("DATABASE_URL", "REDIS_URL") if embedded else ())}
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in left_out and not name.endswith("_DB_PASSWORD")
    }
    environment.update(settings or {}, OJIME_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "deploy.cli", *arguments],
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _generated_keys(data_dir: Path) -> dict[str, str]:
    printed = _ojime("keys", "generate", data_dir=data_dir)
    assert printed.returncode == 0, printed.stderr
    return dict(line.split("=", 1) for line in printed.stdout.splitlines())


@pytest.mark.smoke
@pytest.mark.parametrize(
    "command", [["run"], ["serve", "gateway"], ["worker", "contacts"]]
)
def test_production_without_keys_refuses_to_start_in_one_line(
    command: list[str], tmp_path: Path
) -> None:
    result = _ojime(*command, data_dir=tmp_path, settings=_PRODUCTION)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "OJIME_ENV=production needs" in result.stderr
    assert "OJIME_MASTER_KEYS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "secrets.json").exists()


@pytest.mark.smoke
def test_a_setting_that_does_not_parse_is_named_in_one_line(tmp_path: Path) -> None:
    result = _ojime(
        "serve", "contacts", data_dir=tmp_path, settings={"CONTACTS_PORT": "eighty"}
    )

    assert result.returncode == 2
    assert result.stderr.startswith("ojime: CONTACTS_PORT: ")
    assert result.stderr.count("\n") == 1


def test_generated_keys_are_fresh_rings_and_passwords(tmp_path: Path) -> None:
    first = _generated_keys(tmp_path)
    second = _generated_keys(tmp_path)

    for name in _KEY_SETTINGS:
        assert KeyRing.parse(first[name]).current_version == 1
        assert first[name] != second[name]
    for spec in SERVICES:
        assert len(first[f"{spec.name.upper()}_DB_PASSWORD"]) >= 32


@pytest.mark.smoke
def test_production_with_keys_still_needs_the_database_password(
    tmp_path: Path,
) -> None:
    settings = {**_PRODUCTION, **_generated_keys(tmp_path)}
    del settings["CONTACTS_DB_PASSWORD"]
    # Never reached: the missing password stops the start before any connection.
    settings["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/unreachable"

    result = _ojime("serve", "contacts", data_dir=tmp_path, settings=settings)

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ojime: OJIME_ENV=production needs CONTACTS_DB_PASSWORD"
    )


def test_migrate_without_a_database_url_uses_the_embedded_server(
    data_dir: Path,
) -> None:
    result = _ojime("migrate", data_dir=data_dir, embedded=True)

    assert result.returncode == 0, result.stderr
    migrated = [
        line for line in result.stderr.splitlines() if "migrations.applied" in line
    ]
    assert len(migrated) == len(SERVICES)
    assert postmaster_pid(data_dir / "postgres") is None


@pytest.fixture
async def own_database(stores: Stores) -> AsyncIterator[str]:
    """A database of the test's own: rotation touches every organization's
    key, and other tests leave keys sealed with other master keys."""
    name = f"ojime_rotation_{uuid.uuid4().hex[:12]}"
    yield await create_database(stores.database_url, name)
    await drop_database(stores.database_url, name)


async def test_rotate_master_key_adds_a_key_and_rewraps_organization_keys(
    own_database: str, data_dir: Path
) -> None:
    stores = {"DATABASE_URL": own_database}
    assert _ojime("migrate", data_dir=data_dir, settings=stores).returncode == 0
    first_ring = KeyRing.parse(ensure_development_secrets(data_dir)["master_keys"])
    org_id = uuid.uuid4()
    sealed = await _seal_with_data_key(own_database, org_id, first_ring)

    result = _ojime(
        "rotate-master-key", "--add-key", data_dir=data_dir, settings=stores
    )

    assert result.returncode == 0, result.stderr
    assert "added master key version 2" in result.stdout
    assert "contacts: 1 re-sealed, 0 remaining" in result.stdout
    second_ring = KeyRing.parse(ensure_development_secrets(data_dir)["master_keys"])
    assert second_ring.current_version == 2
    assert await _open_with_data_key(own_database, org_id, sealed, second_ring)


_CELL = {"table": "contacts.probe", "column": "value", "row_id": "1"}


async def _seal_with_data_key(
    database_url: str, org_id: uuid.UUID, ring: KeyRing
) -> bytes:
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    async with unit_of_work(async_sessionmaker(engine)) as session:
        key = await get_or_create_data_key(session, "contacts", org_id, ring)
    await engine.dispose()
    return key.seal(b"kept through rotation", **_CELL)


async def _open_with_data_key(
    database_url: str, org_id: uuid.UUID, sealed: bytes, ring: KeyRing
) -> bool:
    engine = create_async_engine(async_url(database_url), poolclass=NullPool)
    async with unit_of_work(async_sessionmaker(engine)) as session:
        key = await load_data_key(session, "contacts", org_id, ring)
    await engine.dispose()
    return key.open(sealed, **_CELL) == b"kept through rotation"
