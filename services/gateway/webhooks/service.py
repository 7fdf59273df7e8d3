"""Turning a verified delivery into events, once per messaging item.

For each organization the delivery concerns, one transaction records its
new items, stores the sealed delivery and adds one event per new item to the
outbox; the caller commits it. Items recorded before (Meta redelivers until
it sees a 200, and may send the same delivery several times at once) change
nothing, and a delivery with nothing new is not stored again.

The stored delivery is not needed once its items became events, which they
do in that same transaction; it is kept sealed for a short retention
(``GATEWAY_WEBHOOK_RETENTION_HOURS``, a day by default) so that items of
kinds not understood yet can be looked at, and then deleted by the work item
scheduled with it (:mod:`.tasks`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from services.events import publish
from services.gateway import SPEC
from services.gateway.models import INSTAGRAM_DELIVERY_BODY
from services.gateway.webhooks import repository
from services.gateway.webhooks.events import message_received
from services.gateway.webhooks.parsing import Delivery, Item
from shared.crypto.keyring import KeyRing
from shared.work import WorkItems

DELIVERY_EXPIRY = "instagram.delivery_expiry"


@dataclass(frozen=True)
class AccountDelivery:
    """The part of a delivery about one Instagram account."""

    account_id: str
    body: bytes
    items: list[Item]


def split_by_account(
    delivery: Delivery, raw_body: bytes, items: Sequence[Item]
) -> list[AccountDelivery]:
    """The delivery account by account: as received when it names only one,
    else each account's entries written out alone."""
    by_account: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        by_account[item.account_id].append(item)
    if len(by_account) == 1:
        [(account_id, only)] = by_account.items()
        return [AccountDelivery(account_id, raw_body, only)]
    return [
        AccountDelivery(account_id, _entries_of(delivery, account_id), its_items)
        for account_id, its_items in by_account.items()
    ]


def _entries_of(delivery: Delivery, account_id: str) -> bytes:
    entries = [entry for entry in delivery.entry if entry.id == account_id]
    return delivery.model_copy(update={"entry": entries}).model_dump_json().encode()


async def record(
    session: AsyncSession,
    ring: KeyRing,
    org_id: UUID,
    part: AccountDelivery,
    retention: timedelta,
) -> int:
    """Store ``part`` for ``org_id`` and emit its new items; how many were new.

    ``session`` must be scoped to ``org_id``.
    """
    pending = _unique(part.items)
    claims = [(item.kind, item.key, event_id) for event_id, item in pending.items()]
    fresh = await repository.claim_items(session, org_id, claims)
    if not fresh:
        return 0

    delivery_id = uuid4()
    sealed = INSTAGRAM_DELIVERY_BODY.seal(ring, part.body, delivery_id)
    await repository.add_delivery(session, delivery_id, org_id, sealed)

    # In the order Meta sent them, though consumers must not rely on order.
    for event_id, item in pending.items():
        if event_id in fresh:
            event = message_received(
                ring, item, org_id=org_id, event_id=event_id, delivery_id=delivery_id
            )
            await publish(session, event, source=SPEC)

    await _schedule_expiry(session, org_id, delivery_id, retention)
    return len(fresh)


def _unique(items: Sequence[Item]) -> dict[UUID, Item]:
    """Each distinct item once, under the id its event will have."""
    seen = {(item.kind, item.key): item for item in items}
    return {uuid4(): item for item in seen.values()}


async def _schedule_expiry(
    session: AsyncSession, org_id: UUID, delivery_id: UUID, retention: timedelta
) -> None:
    await WorkItems(SPEC.schema).schedule(
        session,
        DELIVERY_EXPIRY,
        org_id=org_id,
        due_at=datetime.now(UTC) + retention,
        item_id=delivery_id,
    )
