"""The AI agent: decides whether to answer a DM, and answers when it may."""

from pathlib import Path

from services.ai_agent.settings import AiAgentSettings
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="ai_agent",
    port=8003,
    internal=True,
    title="Ojime AI agent",
    package_dir=Path(__file__).parent,
    settings_class=AiAgentSettings,
)
