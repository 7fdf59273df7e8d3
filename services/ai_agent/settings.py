"""Settings of the ai_agent service (prefix ``AI_AGENT_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AiAgentSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="AI_AGENT_", extra="ignore", frozen=True
    )

    port: int = 8003
