"""The ai_agent service's application."""

from __future__ import annotations

from fastapi import FastAPI

from services.ai_agent import SPEC
from services.ai_agent.routes import router
from services.ai_agent.settings import AiAgentSettings
from shared.app import create_app


def create(settings: AiAgentSettings | None = None) -> FastAPI:
    return create_app(
        SPEC,
        settings or AiAgentSettings(),
        routers=[router],
        description=("The AI agent's settings, knowledge and decisions."),
    )
