"""Contacts: contacts, conversations, opt-out, automations and the send path."""

from pathlib import Path

from services.contacts.settings import ContactsSettings
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="contacts",
    port=8001,
    internal=True,
    title="Ojime Contacts",
    package_dir=Path(__file__).parent,
    settings_class=ContactsSettings,
)
