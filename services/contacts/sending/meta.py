"""Meta's Send API and the organization's token, as the send path uses them.

The token is read from the gateway's internal path for every send and is
never kept or logged. It goes to Meta in the Authorization header, so that
no URL, and no error quoting one, carries it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from services.contacts.gateway_token import instagram_token_request
from services.contacts.settings import ContactsSettings
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

# Meta's error codes: too many calls (application, user, page, API limits).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
# An unexpected or temporary error on Meta's side.
TRANSIENT_CODES = frozenset({1, 2})
# (code, subcode or None) of Meta's permanent refusals, and our reason.
PERMANENT_ERRORS = {
    (551, None): "user_blocked",
    (100, 2018001): "user_not_found",
    (10, 2018278): "outside_window",
    (190, None): "token_invalid",
}


@dataclass(frozen=True)
class Connection:
    """The organization's token, or why there is none."""

    token: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Answer:
    """What one call to the Send API came to."""

    instagram_message_id: str | None = None
    reason: str | None = None
    error_code: int | None = None
    retryable: bool = False
    # The call may have reached Meta, and no answer says whether it sent.
    uncertain: bool = False


async def connection(
    client: httpx.AsyncClient, runtime: Runtime, org_id: uuid.UUID
) -> Connection:
    """The organization's Instagram token, read from the gateway."""
    url, headers = instagram_token_request(runtime, org_id)
    try:
        answer = await client.get(url, headers=headers)
        body = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("send.token_unavailable", error_type=type(exc).__name__)
        return Connection(problem="token_unavailable")
    return _read_connection(answer.status_code, body)


def _read_connection(status: int, body: Any) -> Connection:
    if status == 404:
        return Connection(problem="instagram_not_connected")
    token = body.get("access_token") if isinstance(body, dict) else None
    if status != 200 or not isinstance(token, str) or not token:
        log.warning("send.token_unavailable", status=status)
        return Connection(problem="token_unavailable")
    return Connection(token=token)


async def post_message(
    client: httpx.AsyncClient,
    settings: ContactsSettings,
    token: str,
    recipient: str,
    text: str,
    tag: str | None,
) -> Answer:
    """One call to the Send API; what it came to."""
    body: dict[str, Any] = {
        "recipient": {"id": recipient},
        "message": {"text": text},
        "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE",
    }
    if tag:
        body["tag"] = tag
    headers = {"Authorization": f"Bearer {token}"}
    try:
        answer = await client.post(
            f"{settings.meta_graph_url}/me/messages", json=body, headers=headers
        )
    except (httpx.ConnectError, httpx.ConnectTimeout):
        return Answer(reason="meta_unavailable", retryable=True)
    except httpx.HTTPError as exc:
        log.warning("send.unconfirmed", error_type=type(exc).__name__)
        return Answer(reason="meta_unconfirmed", uncertain=True)
    return read_answer(answer)


def read_answer(answer: httpx.Response) -> Answer:
    """Meta's answer: the sent message's id, or its error classified."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    found = body.get("message_id") if isinstance(body, dict) else None
    if answer.status_code == 200 and isinstance(found, str):
        return Answer(instagram_message_id=found)

    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return _unreadable(answer.status_code)
    return classify_error(answer.status_code, error)


def classify_error(status: int, error: dict[str, Any]) -> Answer:
    """A Meta error body, as a reason, and whether calling again may help."""
    code = error.get("code")
    code = code if isinstance(code, int) else None
    subcode = error.get("error_subcode")
    if code in RATE_LIMIT_CODES:
        return Answer(reason="rate_limited", error_code=code, retryable=True)
    if code in TRANSIENT_CODES or status >= 500 or error.get("is_transient"):
        return Answer(reason="meta_unavailable", error_code=code, retryable=True)

    reason = PERMANENT_ERRORS.get((code or 0, subcode))
    reason = reason or PERMANENT_ERRORS.get((code or 0, None), "meta_refused")
    return Answer(reason=reason, error_code=code)


def _unreadable(status: int) -> Answer:
    if status >= 500 or status == 429:
        return Answer(reason="meta_unavailable", retryable=True)
    if status >= 400:
        return Answer(reason="meta_refused")
    # Meta said yes without a message id we can read: it may have sent.
    log.warning("send.unconfirmed", status=status)
    return Answer(reason="meta_unconfirmed", uncertain=True)
