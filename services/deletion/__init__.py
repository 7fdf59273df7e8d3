"""Deletion: account deletion, purges, and Meta's and Shopify's data requests."""

from pathlib import Path

from services.deletion.settings import DeletionSettings
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="deletion",
    port=8002,
    internal=True,
    title="Ojime Deletion",
    package_dir=Path(__file__).parent,
    settings_class=DeletionSettings,
)
