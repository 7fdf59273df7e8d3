"""The send path's decisions: check, record, call Meta, mark. No HTTP here.

Each part of a message is one send, in three steps. The first transaction
locks the contact, checks what may be sent and records the send as
``sending``, or as refused with its reason. Meta is then called with no
transaction open, retried with a backoff while it answers that it is busy
or failing. The second transaction marks the send with the outcome and, when
Meta took it, stores the message in the conversation with Meta's message id,
so that the echo Meta delivers afterwards is known for ours.

A send asked again with the same id is answered from its record and never
reaches Meta twice. One found still ``sending`` was cut off between the call
and the mark, by a crash or a timeout: Meta may or may not have taken it, so
it becomes ``unconfirmed`` and is not sent again. An at-most-once send can
thus leave a message unsent; a doubled message to a customer is the worse
failure. Meta's echo of such a message is filed as a person's reply. The
same holds for a send asked again while its first call still waits for
Meta: the second answers ``unconfirmed``, and the first then marks the send
with what Meta said.

Meta usually echoes a message after it answered the call. An echo that
arrives before the mark commits is filed as a person's reply and takes the
conversation over; the mark then finds Meta's id taken and does not store
the message a second time. Telling that early echo apart would need the
echo filing to wait for sends still ``sending``, which is not built.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import SPEC, repository, service
from services.contacts.errors import ContactNotFound
from services.contacts.models import Contact, Send
from services.contacts.schemas import SenderKind
from services.contacts.sending import meta
from services.contacts.sending import repository as sends
from services.contacts.sending.errors import MessageIdTaken
from services.contacts.sending.parts import fits, split_text
from services.contacts.settings import contacts_settings
from shared.crypto.data_keys import get_or_create_data_key
from shared.db import unit_of_work
from shared.metrics import SENDS_REFUSED
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
HUMAN_AGENT_TAG = "HUMAN_AGENT"
AUTOMATED_SENDERS = frozenset({"scenario", "campaign", "ai"})
# Reasons of a send that could not be made, as opposed to one refused.
FAILURE_REASONS = frozenset(
    {"token_unavailable", "meta_unavailable", "rate_limited", "meta_refused"}
)


@dataclass(frozen=True)
class Outbound:
    """A message someone asks to send to a contact.

    ``message_id`` is the idempotency key: asking again with the same one
    sends nothing new. ``split`` cuts a text over Meta's limit into parts
    at sentence boundaries instead of refusing it.
    """

    org_id: uuid.UUID
    contact_id: uuid.UUID
    text: str
    sender_kind: SenderKind
    by_user_id: uuid.UUID | None = None
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)
    split: bool = False


@dataclass(frozen=True)
class SendPolicy:
    """How often, and how patiently, a busy or failing Meta is called again."""

    max_attempts: int = 4
    first_delay_seconds: float = 0.5
    longest_delay_seconds: float = 8.0

    def delay(self, attempt: int) -> float:
        return min(
            self.first_delay_seconds * 2.0 ** (attempt - 1), self.longest_delay_seconds
        )


@dataclass(frozen=True)
class SendOutcome:
    """What became of one part: sent, refused, failed or unconfirmed."""

    message_id: uuid.UUID
    state: str
    reason: str | None = None
    tag: str | None = None
    instagram_message_id: str | None = None

    @property
    def sent(self) -> bool:
        return self.state == "sent"


@dataclass(frozen=True)
class _Call:
    runtime: Runtime
    client: httpx.AsyncClient
    policy: SendPolicy
    outbound: Outbound


async def send(
    runtime: Runtime, outbound: Outbound, policy: SendPolicy | None = None
) -> list[SendOutcome]:
    """Send ``outbound``, each part in turn; the outcome of each part tried.

    The first part not sent stops the rest. It commits on its own, in
    several transactions, so it is called with none open.
    """
    if outbound.sender_kind == "contact":
        raise ValueError("contacts write to us; the send path sends to them")

    timeout = contacts_settings(runtime).meta_timeout_seconds
    outcomes: list[SendOutcome] = []
    async with httpx.AsyncClient(timeout=timeout) as client:
        call = _Call(runtime, client, policy or SendPolicy(), outbound)
        for part_id, text in _parts(outbound):
            outcomes.append(await _send_part(call, part_id, text))
            if not outcomes[-1].sent:
                break
    return outcomes


def _parts(outbound: Outbound) -> list[tuple[uuid.UUID, str]]:
    """Each part's id and text; the first part's id is the message's own."""
    texts = split_text(outbound.text) if outbound.split else [outbound.text]
    first = outbound.message_id
    return [
        (first if index == 0 else uuid.uuid5(first, str(index)), text)
        for index, text in enumerate(texts)
    ]


async def _send_part(call: _Call, part_id: uuid.UUID, text: str) -> SendOutcome:
    connection = await meta.connection(call.client, call.runtime, call.outbound.org_id)

    async with _transaction(call) as session:
        row, recipient = await _record(
            session, call.outbound, part_id, text, connection
        )
    if row.state != "sending" or connection.token is None:
        return _outcome(row)

    answer, attempts = await _deliver(call, connection.token, recipient, text, row.tag)

    async with _transaction(call) as session:
        return await _mark(session, call, part_id, text, answer, attempts)


async def _record(
    session: AsyncSession,
    outbound: Outbound,
    part_id: uuid.UUID,
    text: str,
    connection: meta.Connection,
) -> tuple[Send, str]:
    """The send's row: found if asked before, else checked and added."""
    contact = await repository.contact_for_update(
        session, outbound.org_id, outbound.contact_id
    )
    if contact is None:
        raise ContactNotFound()

    known = await sends.send_for_update(session, outbound.org_id, part_id)
    if known is not None:
        _settle_interrupted(known)
        return known, contact.instagram_id

    reason, tag = await _check(session, outbound, contact, text, connection)
    row = _new_send(outbound, part_id, reason, tag)
    if not await sends.insert_send(session, row):
        raise MessageIdTaken()
    _log_decision(row)
    return row, contact.instagram_id


def _settle_interrupted(known: Send) -> None:
    if known.state != "sending":
        return
    known.state = "unconfirmed"
    known.reason = "interrupted"
    known.updated_at = datetime.now(UTC)
    log.warning("send.unconfirmed", reason="interrupted")


async def _check(
    session: AsyncSession,
    outbound: Outbound,
    contact: Contact,
    text: str,
    connection: meta.Connection,
) -> tuple[str | None, str | None]:
    """Why the part may not be sent (None if it may), and Meta's tag for it."""
    if connection.problem is not None:
        return connection.problem, None
    if contact.opted_out:
        return "opted_out", None
    if not fits(text):
        return "text_too_long", None

    if outbound.sender_kind in AUTOMATED_SENDERS:
        conversation = await sends.conversation_of(session, outbound.org_id, contact.id)
        if conversation is not None and conversation.taken_over_at is not None:
            return "taken_over", None
    return await _window(session, outbound, contact)


async def _window(
    session: AsyncSession, outbound: Outbound, contact: Contact
) -> tuple[str | None, str | None]:
    """Meta's messaging window: open for 24 hours after the contact wrote,
    and for a person, with the human-agent tag, for 7 days."""
    wrote = await sends.last_inbound_at(session, outbound.org_id, contact.id)
    if wrote is None:
        return "outside_window", None

    since = datetime.now(UTC) - wrote
    if since <= STANDARD_WINDOW:
        return None, None
    if outbound.sender_kind == "person" and since <= HUMAN_AGENT_WINDOW:
        return None, HUMAN_AGENT_TAG
    return "outside_window", None


def _new_send(
    outbound: Outbound, part_id: uuid.UUID, reason: str | None, tag: str | None
) -> Send:
    state = "sending"
    if reason is not None:
        state = "failed" if reason in FAILURE_REASONS else "refused"
    now = datetime.now(UTC)
    return Send(
        id=part_id,
        org_id=outbound.org_id,
        contact_id=outbound.contact_id,
        sender_kind=outbound.sender_kind,
        by_user_id=outbound.by_user_id,
        state=state,
        reason=reason,
        tag=tag,
        attempts=0,
        created_at=now,
        updated_at=now,
    )


async def _deliver(
    call: _Call, token: str, recipient: str, text: str, tag: str | None
) -> tuple[meta.Answer, int]:
    """Call the Send API until it answers for good or the attempts run out."""
    settings = contacts_settings(call.runtime)
    attempt = 1
    while True:
        answer = await meta.post_message(
            call.client, settings, token, recipient, text, tag
        )
        if not answer.retryable or attempt >= call.policy.max_attempts:
            return answer, attempt

        log.info("send.retrying", attempt=attempt, reason=answer.reason)
        await asyncio.sleep(call.policy.delay(attempt))
        attempt += 1


async def _mark(
    session: AsyncSession,
    call: _Call,
    part_id: uuid.UUID,
    text: str,
    answer: meta.Answer,
    attempts: int,
) -> SendOutcome:
    """Write down what Meta's answer came to; store the message if sent."""
    row = await sends.send_for_update(session, call.outbound.org_id, part_id)
    assert row is not None, "a send is recorded before Meta is called"
    row.attempts = attempts
    row.updated_at = datetime.now(UTC)

    if answer.instagram_message_id is not None:
        row.state, row.instagram_message_id = "sent", answer.instagram_message_id
        await _store_message(session, call, row, text)
    else:
        row.state = "unconfirmed" if answer.uncertain else "failed"
        row.reason, row.meta_error_code = answer.reason, answer.error_code
    _log_decision(row)
    return _outcome(row)


async def _store_message(
    session: AsyncSession, call: _Call, row: Send, text: str
) -> None:
    """The sent part, in the conversation, its text sealed like the contact's."""
    now = row.updated_at
    master_keys = call.runtime.secrets.master_keys
    data_key = await get_or_create_data_key(
        session, SPEC.schema, row.org_id, master_keys
    )
    conversation_id = await repository.upsert_conversation(
        session, row.org_id, row.contact_id, now
    )
    await repository.insert_message(
        session,
        {
            "id": row.id,
            "org_id": row.org_id,
            "conversation_id": conversation_id,
            "contact_id": row.contact_id,
            "instagram_message_id": row.instagram_message_id,
            "direction": "out",
            "sender_kind": row.sender_kind,
            "kind": "message",
            "text_sealed": service.seal_message_text(data_key, text, row.id),
            "sent_at": now,
        },
    )
    if row.sender_kind == "person":
        await sends.take_over(session, row.org_id, row.contact_id, row.by_user_id, now)


async def hand_over(
    session: AsyncSession,
    org_id: uuid.UUID,
    contact_id: uuid.UUID,
    by_user_id: uuid.UUID | None,
) -> None:
    """Give the contact's conversation to a person: automated senders stop.

    Nothing hands it back yet; that belongs with the scenarios that pause.
    """
    if await repository.contact(session, org_id, contact_id) is None:
        raise ContactNotFound()
    await sends.take_over(session, org_id, contact_id, by_user_id, datetime.now(UTC))
    log.info("conversation.taken_over", by="hand_over")


def _transaction(call: _Call) -> AbstractAsyncContextManager[AsyncSession]:
    return unit_of_work(call.runtime.sessions, call.outbound.org_id)


def _outcome(row: Send) -> SendOutcome:
    return SendOutcome(
        message_id=row.id,
        state=row.state,
        reason=row.reason,
        tag=row.tag,
        instagram_message_id=row.instagram_message_id,
    )


def _log_decision(row: Send) -> None:
    if row.state == "refused":
        SENDS_REFUSED.labels(reason=row.reason).inc()
    log.info(
        "send.recorded",
        state=row.state,
        reason=row.reason,
        sender_kind=row.sender_kind,
        tag=row.tag,
        attempts=row.attempts,
    )
