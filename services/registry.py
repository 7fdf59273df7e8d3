"""The services of the system, in the order the local runner starts them."""

from __future__ import annotations

from services.ai_agent import SPEC as AI_AGENT
from services.contacts import SPEC as CONTACTS
from services.deletion import SPEC as DELETION
from services.gateway import SPEC as GATEWAY
from shared.service import ServiceSpec

SERVICES: tuple[ServiceSpec, ...] = (CONTACTS, DELETION, AI_AGENT, GATEWAY)


def service(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    raise KeyError(name)
