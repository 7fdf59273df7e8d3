"""Settings of the gateway (prefix ``GATEWAY_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", extra="ignore", frozen=True
    )

    port: int = 8000
    contacts_url: str = "http://127.0.0.1:8001"
    deletion_url: str = "http://127.0.0.1:8002"
    ai_agent_url: str = "http://127.0.0.1:8003"
    proxy_timeout_seconds: float = Field(30.0, gt=0, le=600)

    def upstream_url(self, service: str) -> str:
        urls = {
            "contacts": self.contacts_url,
            "deletion": self.deletion_url,
            "ai_agent": self.ai_agent_url,
        }
        return urls[service].rstrip("/")
