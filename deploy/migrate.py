"""Bring every service's schema to its newest migration."""

from __future__ import annotations

import structlog

from shared.db import DatabaseNotConfigured
from shared.migrations import upgrade
from shared.secrets import MissingSecret, load_secrets
from shared.service import ServiceSpec
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)


async def migrate_service(spec: ServiceSpec) -> None:
    """Create or update one service's schema, role and tables."""
    settings = spec.settings()
    if not settings.database_url:
        raise DatabaseNotConfigured(
            "DATABASE_URL is not set; `ojime run` starts an embedded PostgreSQL"
        )
    await upgrade(
        spec.migrations_dir,
        settings.database_url,
        spec.schema,
        spec.name,
        role_password(spec, settings),
    )
    log.info("migrations.applied", migrated_service=spec.name)


def role_password(spec: ServiceSpec, settings: ServiceSettings) -> str:
    """The password the service's own database role is given.

    In production it must be set explicitly: one derived from the development
    file would be guessable there, as that file does not exist.
    """
    if settings.db_password:
        return settings.db_password
    if settings.is_production:
        raise MissingSecret(
            f"OJIME_ENV=production needs {spec.name.upper()}_DB_PASSWORD"
        )
    return load_secrets(settings).db_password(spec.name)


async def migrate_all(specs: tuple[ServiceSpec, ...]) -> None:
    """Migrate services one after another; each keeps to its own schema."""
    for spec in specs:
        await migrate_service(spec)
