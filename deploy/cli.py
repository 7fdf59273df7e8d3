"""The ``ojime`` command line.

``ojime run`` starts the whole system on one machine; ``serve`` and ``worker``
run one process of one service, as a container or a supervisor would;
``migrate`` brings every schema up to date; ``keys generate`` and
``rotate-master-key`` look after the keys.

A start that cannot work (a production start without its keys, a missing
store, a setting that does not parse) ends with a one-line message and exit
code 2, without a traceback.

Each command imports the heavy modules it needs when it runs, so that the
eight processes ``ojime run`` starts at once load only what they use.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from deploy.embedded import EmbeddedPostgres, EmbeddedStoreError
from services.registry import SERVICES, service
from shared.crypto.errors import CryptoError
from shared.crypto.keyring import KeyRing, KeyRingError
from shared.db import DatabaseNotConfigured
from shared.logging import configure_logging
from shared.runtime import RedisNotConfigured
from shared.secrets import MissingSecret, load_secrets, save_master_keys
from shared.settings import CommonSettings

if TYPE_CHECKING:
    from shared.crypto.rotation import RotationReport

KEY_SETTINGS = ("OJIME_MASTER_KEYS", "OJIME_INTERNAL_SIGNING_KEYS", "OJIME_COOKIE_KEYS")

Command = Callable[[argparse.Namespace], int]
SettingsT = TypeVar("SettingsT", bound=CommonSettings)


class WorkerMissing(RuntimeError):
    """A service without a ``tasks.main`` to run its worker."""


class MasterKeyFromEnvironment(RuntimeError):
    """A new master key was asked for where the ring comes from the environment."""


class InvalidSetting(RuntimeError):
    """A setting in the environment that does not parse."""


_REFUSALS = (
    MissingSecret,
    DatabaseNotConfigured,
    RedisNotConfigured,
    KeyRingError,
    WorkerMissing,
    MasterKeyFromEnvironment,
    InvalidSetting,
)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``ojime`` console script."""
    arguments = build_parser().parse_args(argv)
    command: Command = arguments.command
    try:
        code = command(arguments)
    except _REFUSALS as exc:
        sys.stderr.write(f"ojime: {exc}\n")
        code = 2
    except EmbeddedStoreError as exc:
        sys.stderr.write(f"ojime: {exc}\n")
        code = 1
    except KeyboardInterrupt:
        code = 130
    raise SystemExit(code)


def _read_settings(settings_class: type[SettingsT]) -> SettingsT:
    """Settings read from the environment, or one line saying what is wrong."""
    try:
        return settings_class()
    except ValidationError as exc:
        problems = "; ".join(
            f"{_variable(settings_class, error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidSetting(problems) from None


def _variable(settings_class: type[CommonSettings], location: tuple[Any, ...]) -> str:
    """The environment variable behind a field, as a person would set it."""
    name = str(location[0]) if location else ""
    field = settings_class.model_fields.get(name)
    alias = field.validation_alias if field else None
    if isinstance(alias, str):
        return alias
    return f"{settings_class.model_config.get('env_prefix', '')}{name}".upper()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ojime", description="Run and look after the Ojime services."
    )
    commands = parser.add_subparsers(required=True, metavar="command")
    names = [spec.name for spec in SERVICES]

    _add(commands, "run", _run, "start the whole system on this machine")
    serve = _add(commands, "serve", _serve, "serve one service's HTTP API")
    serve.add_argument("service", choices=names)
    worker = _add(commands, "worker", _worker, "run one service's worker")
    worker.add_argument("service", choices=names)
    _add(commands, "migrate", _migrate, "bring every service's schema up to date")
    _add_rotation(commands)
    _add_keys(commands)
    return parser


def _add(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    command: Command,
    summary: str,
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=summary, description=summary)
    parser.set_defaults(command=command)
    return parser


def _add_rotation(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    rotate = _add(
        commands,
        "rotate-master-key",
        _rotate_master_key,
        "re-seal every organization key and sealed column under the newest master key",
    )
    rotate.add_argument(
        "--add-key",
        action="store_true",
        help="first add a fresh master key to the development key file",
    )


def _add_keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="make keys for a production start")
    actions = keys.add_subparsers(required=True, metavar="action")
    _add(
        actions,
        "generate",
        _generate_keys,
        "print a fresh production key set as environment lines",
    )


def _run(arguments: argparse.Namespace) -> int:
    from deploy import local

    _read_settings(CommonSettings)
    for spec in SERVICES:
        _read_settings(spec.settings_class)
    return local.run()


def _serve(arguments: argparse.Namespace) -> int:
    import uvicorn

    spec = service(arguments.service)
    settings = _read_settings(spec.settings_class)
    load_secrets(settings)
    # log_config=None leaves logging to the application: JSON lines only.
    uvicorn.run(
        f"{spec.package}.app:create",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=round(settings.shutdown_grace_seconds),
    )
    return 0


def _worker(arguments: argparse.Namespace) -> int:
    spec = service(arguments.service)
    load_secrets(_read_settings(spec.settings_class))
    worker_main = getattr(_tasks_module(spec.package), "main", None)
    if not callable(worker_main):
        raise WorkerMissing(f"{spec.package}.tasks has no main() to run")
    worker_main()
    return 0


def _tasks_module(package: str) -> ModuleType:
    name = f"{package}.tasks"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise WorkerMissing(f"{package} has no worker: {name} is missing") from None


def _migrate(arguments: argparse.Namespace) -> int:
    from deploy.migrate import migrate_all

    settings = _read_settings(CommonSettings)
    configure_logging("migrate", settings.log_level, settings.log_format)
    with _owner_database(settings):
        asyncio.run(migrate_all(SERVICES))
    return 0


def _rotate_master_key(arguments: argparse.Namespace) -> int:
    settings = _read_settings(CommonSettings)
    configure_logging("rotation", settings.log_level, settings.log_format)
    ring = load_secrets(settings).master_keys
    if arguments.add_key:
        ring = _add_master_key(settings, ring)

    try:
        reports = _rotate(settings, ring)
    except CryptoError as exc:
        sys.stderr.write(f"ojime: the rotation stopped: {exc}\n")
        return 1
    return _report_rotation(reports)


def _rotate(settings: CommonSettings, ring: KeyRing) -> list[RotationReport]:
    from shared.crypto.rotation import rotate_services

    with _owner_database(settings) as database_url:
        return asyncio.run(rotate_services(database_url, ring, SERVICES))


def _add_master_key(settings: CommonSettings, ring: KeyRing) -> KeyRing:
    if settings.master_keys:
        raise MasterKeyFromEnvironment(
            "the master keys come from OJIME_MASTER_KEYS: put a new key with a "
            "higher version first in it, restart the services, then run "
            "`ojime rotate-master-key` without --add-key"
        )
    ring = ring.with_new_key()
    save_master_keys(settings.data_dir, ring)
    sys.stdout.write(
        f"added master key version {ring.current_version}; restart the "
        "services so that they seal with it\n"
    )
    return ring


def _report_rotation(reports: list[RotationReport]) -> int:
    for report in reports:
        sys.stdout.write(
            f"{report.schema}: {report.resealed} re-sealed, {report.remaining} "
            f"remaining under older keys (newest key: {report.key_version})\n"
        )
    if any(report.remaining for report in reports):
        sys.stdout.write(
            "some values are still sealed with older keys: run this again once "
            "every process has the new key ring\n"
        )
        return 1
    return 0


@contextmanager
def _owner_database(settings: CommonSettings) -> Iterator[str]:
    """The owner's address: ``DATABASE_URL``, else the embedded server.

    An embedded server this command had to start is stopped again at the end;
    one that was already running (under ``ojime run``) is left running.
    """
    if settings.database_url:
        yield settings.database_url
        return

    postgres = EmbeddedPostgres(settings.data_dir)
    database_url = postgres.start()
    os.environ["DATABASE_URL"] = database_url
    try:
        yield database_url
    finally:
        if not postgres.joined:
            postgres.stop()


def _generate_keys(arguments: argparse.Namespace) -> int:
    lines = [f"{name}={KeyRing.generate().serialize()}" for name in KEY_SETTINGS]
    lines += [
        f"{spec.name.upper()}_DB_PASSWORD={secrets.token_urlsafe(32)}"
        for spec in SERVICES
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    main()
