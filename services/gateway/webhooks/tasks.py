"""Worker jobs of the webhooks: deleting a stored delivery when it expires."""

from __future__ import annotations

from datetime import timedelta

import structlog

from services.gateway.webhooks import repository
from shared.work import WorkRun

log = structlog.get_logger(__name__)

# Meta stops redelivering a notification within a day or two; a week later a
# redelivery is out of the question and its record can go.
ITEMS_KEPT = timedelta(days=7)


async def expire_delivery(run: WorkRun) -> None:
    """Delete the delivery this work item was scheduled with, and forget its
    organization's items old enough that Meta no longer redelivers them."""
    org_id = run.item.org_id
    assert org_id is not None, "a delivery always belongs to an organization"
    async with run.transaction() as session:
        deleted = await repository.delete_delivery(session, run.item.id)
        forgotten = await repository.forget_items(session, org_id, ITEMS_KEPT)

    log.info("instagram.delivery_expired", deleted=deleted, items_forgotten=forgotten)
