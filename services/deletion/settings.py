"""Settings of the deletion service (prefix ``DELETION_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class DeletionSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="DELETION_", extra="ignore", frozen=True
    )

    port: int = 8002
