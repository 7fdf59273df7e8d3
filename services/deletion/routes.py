"""HTTP routes of the deletion service, all under ``/api/orgs/{org_id}/``.

Only an admin signed in as a person reaches them: the gateway proxies this
area for no one else, and the service checks the identity again.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, status

from services.deletion import service
from services.deletion.errors import NotAPersonAdmin
from services.deletion.schemas import DeletionRead
from shared.deps import CurrentIdentity, OrgSession

router = APIRouter(prefix="/api/orgs/{org_id}")


def person_admin(identity: CurrentIdentity) -> uuid.UUID:
    """The id of the admin making the request; 403 for anyone else."""
    if identity.role != "admin" or identity.user_id is None:
        raise NotAPersonAdmin()
    return identity.user_id


PersonAdmin = Annotated[uuid.UUID, Depends(person_admin)]


@router.get("/deletion")
async def read_deletion(
    org_id: uuid.UUID, db: OrgSession, _admin: PersonAdmin
) -> DeletionRead:
    """The state of the organization's deletion, as every admin sees it."""
    return DeletionRead.of(await service.status(db, org_id))


@router.post("/deletion", status_code=status.HTTP_201_CREATED)
async def schedule_deletion(
    org_id: uuid.UUID, db: OrgSession, admin: PersonAdmin
) -> DeletionRead:
    """Schedule the deletion of the organization and all its data, 24 hours
    from now. Until ``due_at`` an admin may cancel it; a second request while
    one is open answers 409."""
    return DeletionRead.of(await service.schedule(db, org_id, admin))


@router.delete("/deletion")
async def cancel_deletion(
    org_id: uuid.UUID, db: OrgSession, admin: PersonAdmin
) -> DeletionRead:
    """Cancel the scheduled deletion. Once the purge has started, 409."""
    return DeletionRead.of(await service.cancel(db, org_id, admin))
