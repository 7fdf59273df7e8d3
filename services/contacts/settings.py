"""Settings of the contacts service (prefix ``CONTACTS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.runtime import Runtime
from shared.settings import ServiceSettings


class ContactsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONTACTS_", extra="ignore", frozen=True
    )

    port: int = 8001
    # Where the gateway's internal paths are, for the Instagram token.
    gateway_url: str = "http://127.0.0.1:8000"
    # A bound on each call to Meta or the gateway while fetching a profile.
    meta_timeout_seconds: float = Field(10.0, gt=0, le=120)
    # A profile older than this is fetched again on the contact's next message.
    profile_max_age_hours: float = Field(24.0, gt=0)


def contacts_settings(runtime: Runtime) -> ContactsSettings:
    """The contacts settings a runtime was opened with."""
    settings = runtime.settings
    if not isinstance(settings, ContactsSettings):
        raise TypeError("the contacts worker runs with ContactsSettings")
    return settings
