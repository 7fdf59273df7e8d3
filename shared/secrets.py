"""The keys a process needs: master keys, cookie keys, internal signing keys.

In production every key comes from the environment and a missing one stops the
process at start with a message naming it. In development the first start
writes a fresh set into ``<data dir>/secrets.json`` (mode 0600), which later
starts reuse; the file never belongs in version control.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from shared.crypto.keyring import KeyRing
from shared.settings import CommonSettings

SECRETS_FILE = "secrets.json"


class MissingSecret(RuntimeError):
    """A production start without a key it must be given."""


@dataclass(frozen=True)
class Secrets:
    master_keys: KeyRing
    internal_signing_keys: KeyRing
    cookie_keys: KeyRing
    db_password_seed: str

    def db_password(self, service: str) -> str:
        """The development password of a service's database role."""
        return f"{service}-{self.db_password_seed}"


_ENV_NAMES = {
    "master_keys": "OJIME_MASTER_KEYS",
    "internal_signing_keys": "OJIME_INTERNAL_SIGNING_KEYS",
    "cookie_keys": "OJIME_COOKIE_KEYS",
}


def load_secrets(settings: CommonSettings) -> Secrets:
    """Keys from the settings, falling back to the development file."""
    given = {field: getattr(settings, field) for field in _ENV_NAMES}
    if settings.is_production:
        missing = [_ENV_NAMES[field] for field, value in given.items() if not value]
        if missing:
            raise MissingSecret(
                "OJIME_ENV=production needs these settings: " + ", ".join(missing)
            )
        stored: dict[str, str] = {"db_password_seed": ""}
    else:
        stored = ensure_development_secrets(settings.data_dir)
    values = {field: value or stored[field] for field, value in given.items()}
    return Secrets(
        master_keys=KeyRing.parse(values["master_keys"]),
        internal_signing_keys=KeyRing.parse(values["internal_signing_keys"]),
        cookie_keys=KeyRing.parse(values["cookie_keys"]),
        db_password_seed=stored["db_password_seed"],
    )


def ensure_development_secrets(data_dir: Path) -> dict[str, str]:
    """Read the development keys, creating them on first use."""
    path = data_dir / SECRETS_FILE
    if not path.exists():
        _write_new_secrets(path)
    stored: dict[str, str] = json.loads(path.read_text())
    return stored


def _write_new_secrets(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = {
        "master_keys": KeyRing.generate().serialize(),
        "internal_signing_keys": KeyRing.generate().serialize(),
        "cookie_keys": KeyRing.generate().serialize(),
        "db_password_seed": secrets.token_urlsafe(24),
    }
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(fresh, handle, indent=2)
    # link() fails if another process won the race; its keys are then kept.
    try:
        os.link(staging, path)
    except FileExistsError:
        pass
    finally:
        staging.unlink()


def save_master_keys(data_dir: Path, ring: KeyRing) -> None:
    """Store a rotated master key ring in the development file."""
    path = data_dir / SECRETS_FILE
    stored = json.loads(path.read_text())
    stored["master_keys"] = ring.serialize()
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(stored, handle, indent=2)
    os.replace(staging, path)
