"""Which organization connected each Instagram account, remembered briefly.

Every delivery names its accounts, and looking them up would cost a
transaction of its own per delivery. An answer is remembered for a minute;
accounts no organization connected are not remembered, so one connected
meanwhile receives its deliveries at once. An organization deleted within
that minute makes its deliveries fail (its rows are gone), and Meta's
redelivery, once the minute has passed, finds the account unconnected.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.webhooks import repository
from shared.db import unit_of_work

REMEMBERED_SECONDS = 60.0


class AccountDirectory:
    """Organizations by Instagram account id, read through a short memory."""

    def __init__(self, remembered_seconds: float = REMEMBERED_SECONDS) -> None:
        self.remembered_seconds = remembered_seconds
        self._known: dict[str, tuple[UUID, float]] = {}

    async def organizations(
        self,
        sessions: async_sessionmaker[AsyncSession],
        account_ids: Collection[str],
    ) -> dict[str, UUID]:
        """The organization of each account that one connected."""
        now = time.monotonic()
        found = {
            account_id: known[0]
            for account_id in account_ids
            if (known := self._known.get(account_id)) is not None and known[1] > now
        }
        missing = [account_id for account_id in account_ids if account_id not in found]
        if not missing:
            return found

        async with unit_of_work(sessions) as session:
            looked_up = await repository.organizations_by_account(session, missing)
        until = now + self.remembered_seconds
        self._known.update(
            (account, (org, until)) for account, org in looked_up.items()
        )
        return found | looked_up
