"""Settings of the contacts service (prefix ``CONTACTS_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ContactsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONTACTS_", extra="ignore", frozen=True
    )

    port: int = 8001
