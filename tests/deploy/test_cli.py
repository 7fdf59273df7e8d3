"""The ``ojime`` command line: production refusals, keys, and migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from deploy.embedded import postmaster_pid
from services.registry import SERVICES
from shared.crypto.keyring import KeyRing

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
