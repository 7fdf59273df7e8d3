"""The gateway: the public edge and the home of identity."""

from pathlib import Path

from services.gateway.settings import GatewaySettings
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="gateway",
    port=8000,
    internal=False,
    title="Ojime Gateway",
    package_dir=Path(__file__).parent,
    settings_class=GatewaySettings,
)
