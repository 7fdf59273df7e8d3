"""What the send path answers a person whose message it did not send."""

from __future__ import annotations

from shared.errors import Conflict, OjimeError

REFUSAL_MESSAGES = {
    "instagram_not_connected": "The organization's Instagram account is not connected.",
    "opted_out": "The contact has opted out of messages.",
    "text_too_long": "The text is over Meta's limit of 1,000 bytes; ask for it "
    "to be split.",
    "outside_window": "The contact last wrote too long ago for Meta to allow a "
    "message: 24 hours, or 7 days for a person's reply.",
    "taken_over": "A person has taken this conversation over.",
}


class SendRefused(OjimeError):
    """A check of the send path said no; ``details`` carries the reason."""

    status_code = 409
    code = "send_refused"
    message = "The message was not sent."


class SendFailed(OjimeError):
    """Meta, or the gateway holding the token, did not take the message."""

    status_code = 502
    code = "send_failed"
    message = "The message could not be sent."


class SendUnconfirmed(OjimeError):
    """An earlier attempt with this id was cut off; it is not sent again."""

    status_code = 409
    code = "send_unconfirmed"
    message = (
        "An earlier attempt to send this message was cut off; it may or may "
        "not have reached the contact, and is not sent again."
    )


class MessageIdTaken(Conflict):
    """The id asked for belongs to another message than this one."""

    code = "message_id_taken"
    message = "This message id is already used by another message."
