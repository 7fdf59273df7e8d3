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

    public_url: str = "http://127.0.0.1:8000"
    allowed_origins: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000", "http://localhost:8000"]
    )
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    session_idle_minutes: int = Field(12 * 60, ge=1)
    session_lifetime_hours: int = Field(14 * 24, ge=1)
    login_failures_per_account: int = Field(5, ge=1)
    login_failures_per_address: int = Field(20, ge=1)
    login_throttle_minutes: int = Field(15, ge=1)
    invitation_ttl_hours: int = Field(72, ge=1)
    meta_timeout_seconds: float = Field(10.0, gt=0, le=120)
    # Meta batches up to a thousand entries in one delivery.
    webhook_max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    webhook_retention_hours: int = Field(24, ge=1, le=24 * 30)

    def upstream_url(self, service: str) -> str:
        urls = {
            "contacts": self.contacts_url,
            "deletion": self.deletion_url,
            "ai_agent": self.ai_agent_url,
        }
        return urls[service].rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        """Secure, ``__Host-`` cookies everywhere but local development."""
        return self.is_production
