"""The one send path: every outbound message, whoever asks for it.

A person replying by hand, a scenario, a campaign and the AI agent all send
through :func:`send`, which checks at the moment of sending that the
organization's Instagram account is connected, that the contact has not
opted out, that Meta's messaging window allows the message, and, for
automated senders, that no person has taken the conversation over. Every
send asked is recorded with its outcome, refusals with their reason.
"""

from services.contacts.sending.parts import TEXT_LIMIT_BYTES, split_text
from services.contacts.sending.service import (
    AUTOMATED_SENDERS,
    HUMAN_AGENT_TAG,
    Outbound,
    SendOutcome,
    SendPolicy,
    hand_over,
    send,
)

__all__ = [
    "AUTOMATED_SENDERS",
    "HUMAN_AGENT_TAG",
    "TEXT_LIMIT_BYTES",
    "Outbound",
    "SendOutcome",
    "SendPolicy",
    "hand_over",
    "send",
    "split_text",
]
