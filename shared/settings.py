"""Settings read from the environment, validated when a process starts.

The names fixed by DESIGN.md (``DATABASE_URL``, ``REDIS_URL``, ``OJIME_*``,
``META_*`` ...) are shared by every service and carry no prefix. What belongs
to one service alone is read with that service's prefix (``CONTACTS_PORT``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "production"]


class CommonSettings(BaseSettings):
    """Settings every process reads, whatever service it runs."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    env: Environment = Field("development", validation_alias="OJIME_ENV")
    data_dir: Path = Field(Path(".ojime"), validation_alias="OJIME_DATA_DIR")
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    log_level: str = Field("INFO", validation_alias="OJIME_LOG_LEVEL")
    log_format: Literal["json", "console"] = Field(
        "json", validation_alias="OJIME_LOG_FORMAT"
    )

    master_keys: str | None = Field(None, validation_alias="OJIME_MASTER_KEYS")
    internal_signing_keys: str | None = Field(
        None, validation_alias="OJIME_INTERNAL_SIGNING_KEYS"
    )
    cookie_keys: str | None = Field(None, validation_alias="OJIME_COOKIE_KEYS")

    meta_app_id: str | None = Field(None, validation_alias="META_APP_ID")
    meta_app_secret: str | None = Field(None, validation_alias="META_APP_SECRET")
    meta_verify_token: str | None = Field(None, validation_alias="META_VERIFY_TOKEN")
    meta_graph_url: str = Field(
        "https://graph.facebook.com/v21.0", validation_alias="META_GRAPH_URL"
    )
    shopify_api_secret: str | None = Field(None, validation_alias="SHOPIFY_API_SECRET")
    storage_url: str | None = Field(None, validation_alias="STORAGE_URL")
    s3_endpoint_url: str | None = Field(None, validation_alias="S3_ENDPOINT_URL")

    identity_ttl_seconds: int = Field(
        60, ge=5, le=3600, validation_alias="OJIME_IDENTITY_TTL_SECONDS"
    )
    # Within the ten seconds the local runner waits before it kills a child;
    # under an orchestrator, set it below the pod's termination grace period.
    shutdown_grace_seconds: float = Field(
        8.0, ge=0, le=3600, validation_alias="OJIME_SHUTDOWN_GRACE_SECONDS"
    )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.data_dir.resolve() / "storage").as_uri()


class ServiceSettings(CommonSettings):
    """Settings of one service; subclasses set the prefix and the defaults."""

    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    db_password: str | None = None
    db_pool_size: int = Field(5, ge=1, le=100)
    job_timeout_seconds: int = Field(30, ge=1, le=3600)
