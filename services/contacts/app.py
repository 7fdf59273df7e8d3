"""The contacts service's application."""

from __future__ import annotations

from fastapi import FastAPI

from services.contacts import SPEC
from services.contacts.routes import router
from services.contacts.settings import ContactsSettings
from shared.app import create_app


def create(settings: ContactsSettings | None = None) -> FastAPI:
    return create_app(
        SPEC,
        settings or ContactsSettings(),
        routers=[router],
        description=(
            "Contacts, conversations, opt-out state, automations and the one send path."
        ),
    )
