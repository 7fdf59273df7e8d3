"""The gateway's own steps in an organization's purge.

Around the rows that :mod:`shared.purge` deletes by ``org_id``, the gateway
removes the organization itself and the people who belonged to it and to no
other organization. Their ids are saved in the purge's progress before the
memberships go, so a purge that crashes after that still knows them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, exists, select

from services.gateway.models import Membership, Organization, User
from shared.db import unit_of_work
from shared.work import WorkRun


async def remember_members(run: WorkRun) -> None:
    """Save the ids of the organization's members in the purge's progress."""
    if "members" in run.progress:
        return
    async with run.transaction() as session:
        user_ids = await session.scalars(
            select(Membership.user_id).where(Membership.org_id == run.item.org_id)
        )
        members = sorted(str(user_id) for user_id in user_ids)
        await run.checkpoint(session, {**run.progress, "members": members})


async def remove_organization_and_lone_members(run: WorkRun) -> None:
    """Delete the organization, then each member left in no organization."""
    async with run.transaction() as session:
        await session.execute(
            delete(Organization).where(Organization.id == run.item.org_id)
        )
    for user_id in list(run.progress["members"]):
        await _remove_if_alone(run, uuid.UUID(user_id))


async def _remove_if_alone(run: WorkRun, user_id: uuid.UUID) -> None:
    sessions = run.runtime.sessions
    # Scoped to the user as well: they may see their own memberships anywhere.
    async with unit_of_work(sessions, run.item.org_id, user_id) as session:
        elsewhere = await session.scalar(
            select(exists().where(Membership.user_id == user_id))
        )
        removed = 0
        if not elsewhere:
            deleted = await session.execute(delete(User).where(User.id == user_id))
            removed = int(getattr(deleted, "rowcount", 0))
        await run.checkpoint(session, _member_done(run, user_id, removed))


def _member_done(run: WorkRun, user_id: uuid.UUID, removed: int) -> dict[str, object]:
    counts = dict(run.progress["counts"])
    counts["users"] = counts.get("users", 0) + removed
    members = [each for each in run.progress["members"] if each != str(user_id)]
    return {**run.progress, "counts": counts, "members": members}
