"""The paths Meta calls for Instagram: the subscription check and deliveries."""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel

from services.gateway.settings import GatewaySettings
from services.gateway.webhooks import service
from services.gateway.webhooks.accounts import AccountDirectory
from services.gateway.webhooks.errors import VerifyTokenMismatch
from services.gateway.webhooks.parsing import items_of, parse_delivery
from services.gateway.webhooks.service import AccountDelivery
from services.gateway.webhooks.signature import (
    SIGNATURE_HEADER,
    read_bounded_body,
    verify_signature,
)
from shared.db import unit_of_work
from shared.runtime import Runtime

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/webhooks/instagram", tags=["webhooks"])


class DeliveryReceipt(BaseModel):
    events: int
    """How many of the delivery's items were new and became events."""


@router.get("", response_class=PlainTextResponse)
async def subscription_check(
    request: Request,
    mode: Annotated[str, Query(alias="hub.mode")] = "",
    verify_token: Annotated[str, Query(alias="hub.verify_token")] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)] = "",
) -> str:
    """Meta's check of the callback URL: the challenge, echoed, only when the
    verify token is ``META_VERIFY_TOKEN``."""
    settings: GatewaySettings = request.app.state.settings
    expected = settings.meta_verify_token
    if mode != "subscribe" or not expected:
        raise VerifyTokenMismatch()
    if not hmac.compare_digest(verify_token.encode(), expected.encode()):
        raise VerifyTokenMismatch()
    return challenge


@router.post("", response_model=DeliveryReceipt)
async def receive_delivery(request: Request) -> JSONResponse:
    """A notification from Meta, signed with the app secret.

    It is answered once every organization it concerns has it stored with its
    events; a redelivered item is recognised and not emitted again, and the
    entries of accounts no organization connected are dropped.
    """
    settings: GatewaySettings = request.app.state.settings
    body = await read_bounded_body(request, settings.webhook_max_body_bytes)
    signature = request.headers.get(SIGNATURE_HEADER)
    verify_signature(body, signature, settings.meta_app_secret)

    delivery = parse_delivery(body)
    parts = service.split_by_account(delivery, body, items_of(delivery))
    retention = timedelta(hours=settings.webhook_retention_hours)
    emitted = await _record_all(request, parts, retention)
    # Answered as is: the receipt needs no validation on its way out.
    return JSONResponse({"events": emitted})


async def _record_all(
    request: Request, parts: list[AccountDelivery], retention: timedelta
) -> int:
    """Record each account's part in a transaction of its organization's."""
    runtime: Runtime = request.app.state.runtime
    directory: AccountDirectory = request.app.state.instagram_accounts
    accounts = [part.account_id for part in parts]
    organizations = await directory.organizations(runtime.sessions, accounts)
    emitted = 0
    for part in parts:
        org_id = organizations.get(part.account_id)
        if org_id is None:
            log.info("instagram.delivery_dropped", items=len(part.items))
            continue
        async with unit_of_work(runtime.sessions, org_id) as session:
            ring = runtime.secrets.master_keys
            emitted += await service.record(session, ring, org_id, part, retention)

    log.info("instagram.delivery_received", accounts=len(parts), events=emitted)
    return emitted
