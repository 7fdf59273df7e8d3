"""The deletion service's application."""

from __future__ import annotations

from fastapi import FastAPI

from services.deletion import SPEC
from services.deletion.routes import router
from services.deletion.settings import DeletionSettings
from shared.app import create_app


def create(settings: DeletionSettings | None = None) -> FastAPI:
    return create_app(
        SPEC,
        settings or DeletionSettings(),
        routers=[router],
        description=(
            "Account deletion with its 24-hour grace window, purges, and data requests."
        ),
    )
