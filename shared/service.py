"""What identifies a service: its name, schema, port, queue and package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    internal: bool
    title: str
    package_dir: Path
    settings_class: type[ServiceSettings]

    @property
    def schema(self) -> str:
        return self.name

    @property
    def queue(self) -> str:
        """The arq queue this service's worker reads."""
        return f"ojime:queue:{self.name}"

    @property
    def package(self) -> str:
        return f"services.{self.name}"

    def settings(self) -> ServiceSettings:
        """This service's settings, read from the environment now."""
        return self.settings_class()

    @property
    def migrations_dir(self) -> Path:
        return self.package_dir / "migrations"
