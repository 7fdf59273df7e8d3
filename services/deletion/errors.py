"""Errors of the deletion service, each named after its situation."""

from __future__ import annotations

from shared.errors import OjimeError


class DeletionAlreadyScheduled(OjimeError):
    status_code = 409
    code = "deletion_already_scheduled"
    message = "The deletion of this organization is already scheduled."


class DeletionAlreadyRunning(OjimeError):
    status_code = 409
    code = "deletion_already_running"
    message = "The purge of this organization has started and cannot be stopped."


class NoDeletionScheduled(OjimeError):
    status_code = 409
    code = "no_deletion_scheduled"
    message = "No deletion of this organization is scheduled."


class NotAPersonAdmin(OjimeError):
    status_code = 403
    code = "not_a_person_admin"
    message = "Only an admin signed in as a person may manage deletion."
