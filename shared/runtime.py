"""The live connections of one service process: database, Redis and keys."""

from __future__ import annotations

from dataclasses import dataclass

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db import (
    DatabaseNotConfigured,
    create_engine,
    create_sessionmaker,
    service_url,
)
from shared.secrets import MissingSecret, Secrets, load_secrets
from shared.service import ServiceSpec
from shared.settings import ServiceSettings


class RedisNotConfigured(RuntimeError):
    """No REDIS_URL, and no embedded server was started to provide one."""


@dataclass
class Runtime:
    spec: ServiceSpec
    settings: ServiceSettings
    secrets: Secrets
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: ArqRedis

    async def close(self) -> None:
        await self.redis.aclose()
        # A client given its own pool leaves the pool open when it closes.
        await self.redis.connection_pool.disconnect()
        await self.engine.dispose()


def database_url_for(
    spec: ServiceSpec, settings: ServiceSettings, keys: Secrets
) -> URL:
    """The address at which this service connects as its own role."""
    if not settings.database_url:
        raise DatabaseNotConfigured(
            "DATABASE_URL is not set; `make run` starts an embedded PostgreSQL"
        )
    password = settings.db_password
    if password is None and settings.is_production:
        raise MissingSecret(
            f"OJIME_ENV=production needs {spec.name.upper()}_DB_PASSWORD"
        )
    return service_url(
        settings.database_url, spec.name, password or keys.db_password(spec.name)
    )


def redis_client(url: str | None, queue: str) -> ArqRedis:
    """An arq client that connects on first use, so a Redis outage at start
    shows as "not ready" rather than a crash."""
    if not url:
        raise RedisNotConfigured(
            "REDIS_URL is not set; `make run` starts an embedded Redis"
        )
    pool = ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return ArqRedis(connection_pool=pool, default_queue_name=queue)


def open_runtime(spec: ServiceSpec, settings: ServiceSettings) -> Runtime:
    keys = load_secrets(settings)
    engine = create_engine(
        database_url_for(spec, settings, keys), pool_size=settings.db_pool_size
    )
    return Runtime(
        spec=spec,
        settings=settings,
        secrets=keys,
        engine=engine,
        sessions=create_sessionmaker(engine),
        redis=redis_client(settings.redis_url, spec.queue),
    )
