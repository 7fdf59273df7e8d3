"""Contacts' Instagram profiles, fetched from Meta's Graph API in the background.

A stale profile is never fetched while a message is being filed: filing only
schedules a durable work item, and the worker fetches later. A slow or
failing Meta then delays the profile and nothing else; the work item retries
with a growing backoff, and gives up after a few attempts until the contact's
next message on a later day schedules it anew.

Each fetch asks the gateway for the organization's Instagram token over its
internal path, with a service identity signed for that organization, and
never keeps or logs the token, nor the request URL that carries it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.contacts import SPEC, repository
from services.contacts.errors import ProfileFetchFailed
from services.contacts.gateway_token import instagram_token_request
from services.contacts.models import Contact
from services.contacts.settings import ContactsSettings, contacts_settings
from shared.runtime import Runtime
from shared.work import WorkItems, WorkRun

log = structlog.get_logger(__name__)

PROFILE_REFRESH = "contact.profile_refresh"
PROFILE_FIELDS = "name,username,profile_pic,follower_count,is_verified_user"
MAX_ATTEMPTS = 5
_ITEM_NAMESPACE = uuid.UUID("6f1d3c52-8d0e-4b7a-9a51-2f4c1e7d9b30")


class GraphProfile(BaseModel):
    """The fields Meta gives for an Instagram-scoped id; any may be missing."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    username: str | None = None
    profile_pic: str | None = None
    follower_count: int | None = None
    is_verified_user: bool | None = None


def is_stale(contact: Contact, max_age: timedelta) -> bool:
    fetched = contact.profile_fetched_at
    return fetched is None or fetched < datetime.now(UTC) - max_age


async def schedule_refresh(
    session: AsyncSession, contact: Contact, max_age: timedelta
) -> None:
    """Schedule a fetch of the contact's profile if it is stale.

    At most one item a contact, a stale profile and a day: a burst of
    messages schedules one fetch, and one that gave up is tried again the
    next day.
    """
    if not is_stale(contact, max_age):
        return

    today = datetime.now(UTC).date().isoformat()
    key = f"{contact.id}:{contact.profile_fetched_at}:{today}"
    await WorkItems(SPEC.schema).schedule(
        session,
        PROFILE_REFRESH,
        org_id=contact.org_id,
        progress={"contact_id": str(contact.id)},
        item_id=uuid.uuid5(_ITEM_NAMESPACE, key),
    )


async def refresh_profile(run: WorkRun) -> None:
    """The work of :data:`PROFILE_REFRESH`: fetch the profile, then store it.

    No transaction is open while Meta or the gateway is being asked.
    """
    org_id = run.item.org_id
    contact_id = uuid.UUID(str(run.item.progress["contact_id"]))
    assert org_id is not None, "profile refreshes are scheduled for an organization"
    async with run.transaction() as session:
        contact = await repository.contact(session, org_id, contact_id)
    if contact is None:
        return

    settings = contacts_settings(run.runtime)
    async with httpx.AsyncClient(timeout=settings.meta_timeout_seconds) as client:
        token = await instagram_token(client, run.runtime, org_id)
        fetched = await fetch_profile(client, settings, token, contact.instagram_id)

    async with run.transaction() as session:
        await repository.save_profile(session, org_id, contact_id, fetched)
    log.info("contact.profile_refreshed")


async def instagram_token(
    client: httpx.AsyncClient, runtime: Runtime, org_id: uuid.UUID
) -> str:
    """The organization's Instagram token, read from the gateway."""
    url, headers = instagram_token_request(runtime, org_id)
    body = await _get_json(client, url, headers=headers, source="gateway")
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ProfileFetchFailed("The gateway gave no Instagram token.")
    return token


async def fetch_profile(
    client: httpx.AsyncClient,
    settings: ContactsSettings,
    token: str,
    instagram_id: str,
) -> GraphProfile:
    """The profile Meta gives for ``instagram_id``."""
    url = f"{settings.meta_graph_url}/{instagram_id}"
    params = {"fields": PROFILE_FIELDS, "access_token": token}
    body = await _get_json(client, url, params=params, source="meta")
    try:
        return GraphProfile.model_validate(body)
    except ValidationError:
        raise ProfileFetchFailed(
            "Meta answered with a profile we cannot read."
        ) from None


async def _get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    source: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, object]:
    # httpx's errors quote the URL, and Meta's carries the token: only the
    # error's type goes on, never its text.
    try:
        answer = await client.get(url, params=params, headers=headers)
        body = answer.json() if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        log.warning(
            "profile.fetch_failed", source=source, error_type=type(exc).__name__
        )
        raise ProfileFetchFailed() from None
    if not isinstance(body, dict):
        log.warning("profile.fetch_failed", source=source, status=answer.status_code)
        raise ProfileFetchFailed()
    return body
