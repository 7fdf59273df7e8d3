"""The organization's billing profile; its Stripe customer id is sealed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import STRIPE_CUSTOMER, BillingProfile
from services.gateway.orgs import audit, repository
from services.gateway.orgs.audit import AuditAction
from services.gateway.orgs.schemas import BillingProfileRead, BillingProfileUpdate
from shared.crypto.keyring import KeyRing

_PLAIN_FIELDS = ("name", "address", "tax_id")


async def read(
    db: AsyncSession, master_keys: KeyRing, org_id: uuid.UUID
) -> BillingProfileRead:
    """The profile, or an empty one if nobody has filled it in yet."""
    profile = await repository.billing_profile(db, org_id)
    if profile is None:
        return BillingProfileRead()
    return _read(profile, master_keys)


async def replace(
    db: AsyncSession,
    master_keys: KeyRing,
    org_id: uuid.UUID,
    update: BillingProfileUpdate,
    *,
    by: uuid.UUID | None,
) -> BillingProfileRead:
    """Replace the whole profile; the audit log names the fields, not values."""
    profile = await repository.billing_profile(db, org_id)
    before = _read(profile, master_keys) if profile else BillingProfileRead()
    if profile is None:
        profile = BillingProfile(org_id=org_id)
        db.add(profile)

    _fill(profile, update, master_keys)
    after = _read(profile, master_keys)
    changed = [
        field
        for field in (*_PLAIN_FIELDS, "stripe_customer_id")
        if getattr(before, field) != getattr(after, field)
    ]
    if changed:
        audit.record(
            db,
            org_id,
            AuditAction.BILLING_PROFILE_CHANGED,
            actor=by,
            fields=",".join(changed),
        )
    return after


def _fill(
    profile: BillingProfile, update: BillingProfileUpdate, master_keys: KeyRing
) -> None:
    for field in _PLAIN_FIELDS:
        setattr(profile, field, getattr(update, field))
    customer = update.stripe_customer_id
    profile.stripe_customer_ciphertext = (
        STRIPE_CUSTOMER.seal(master_keys, customer.encode(), profile.org_id)
        if customer
        else None
    )
    profile.updated_at = datetime.now(UTC)


def _read(profile: BillingProfile, master_keys: KeyRing) -> BillingProfileRead:
    sealed = profile.stripe_customer_ciphertext
    customer = (
        STRIPE_CUSTOMER.open(master_keys, sealed, profile.org_id).decode()
        if sealed
        else None
    )
    return BillingProfileRead(
        name=profile.name,
        address=profile.address,
        tax_id=profile.tax_id,
        stripe_customer_id=customer,
        updated_at=profile.updated_at,
    )
