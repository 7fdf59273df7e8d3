"""Bring every service's schema to its newest migration."""

from __future__ import annotations

import structlog

from shared.migrations import upgrade
from shared.secrets import load_secrets
from shared.service import ServiceSpec

log = structlog.get_logger(__name__)


async def migrate_service(spec: ServiceSpec) -> None:
    settings = spec.settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set")
    password = settings.db_password or load_secrets(settings).db_password(spec.name)
    await upgrade(
        spec.migrations_dir, settings.database_url, spec.schema, spec.name, password
    )
    log.info("migrations.applied", migrated_service=spec.name)


async def migrate_all(specs: tuple[ServiceSpec, ...]) -> None:
    """Migrate services one after another; each keeps to its own schema."""
    for spec in specs:
        await migrate_service(spec)
