"""``/api/auth/2fa``: turning two-factor sign-in on and off."""

from __future__ import annotations

from fastapi import APIRouter, status

from services.gateway.accounts import repository, two_factor
from services.gateway.accounts import service as accounts
from services.gateway.accounts.errors import (
    CurrentPasswordWrong,
    InvalidSecondFactor,
    TwoFactorAlreadyEnabled,
    TwoFactorNotStarted,
)
from services.gateway.accounts.schemas import (
    RecoveryCodesRead,
    TwoFactorCode,
    TwoFactorDisable,
    TwoFactorSetupRead,
)
from services.gateway.auth import EdgeDep, GatewayDb, SignedIn
from services.gateway.edge import Edge
from services.gateway.models import TOTP_SECRET, User
from services.gateway.orgs.audit import AuditAction, record_for_user

router = APIRouter(prefix="/api/auth/2fa", tags=["two-factor"])


@router.post("/setup")
async def start_setup(
    principal: SignedIn, db: GatewayDb, edge: EdgeDep
) -> TwoFactorSetupRead:
    """A new secret for an authenticator app; confirm it with ``/enable``."""
    user = _user(principal.user)
    if user.totp_enabled_at is not None:
        raise TwoFactorAlreadyEnabled()
    secret = two_factor.new_secret()
    user.totp_secret = TOTP_SECRET.seal(
        edge.runtime.secrets.master_keys, secret.encode(), user.id
    )
    user.totp_last_step = None
    return TwoFactorSetupRead(
        secret=secret, otpauth_uri=two_factor.provisioning_uri(secret, user.email)
    )


@router.post("/enable")
async def enable(
    body: TwoFactorCode, principal: SignedIn, db: GatewayDb, edge: EdgeDep
) -> RecoveryCodesRead:
    """Turn two-factor on with a first code; answers the recovery codes, once."""
    user = _user(principal.user)
    if user.totp_enabled_at is not None:
        raise TwoFactorAlreadyEnabled()
    if user.totp_secret is None:
        raise TwoFactorNotStarted()
    _accept_code(user, edge, body.code)
    user.totp_enabled_at = accounts.utcnow()
    codes = await _new_recovery_codes(db, user)
    await db.commit()
    await record_for_user(
        edge.runtime.sessions, user.id, AuditAction.TWO_FACTOR_ENABLED
    )
    return RecoveryCodesRead(recovery_codes=codes)


@router.post("/recovery-codes")
async def regenerate_recovery_codes(
    body: TwoFactorCode, principal: SignedIn, db: GatewayDb, edge: EdgeDep
) -> RecoveryCodesRead:
    """Replace every recovery code; the old ones stop working."""
    user = _user(principal.user)
    if user.totp_enabled_at is None:
        raise TwoFactorNotStarted()
    _accept_code(user, edge, body.code)
    codes = await _new_recovery_codes(db, user)
    await db.commit()
    await record_for_user(
        edge.runtime.sessions, user.id, AuditAction.RECOVERY_CODES_REGENERATED
    )
    return RecoveryCodesRead(recovery_codes=codes)


@router.post("/disable", status_code=status.HTTP_204_NO_CONTENT)
async def disable(
    body: TwoFactorDisable, principal: SignedIn, db: GatewayDb, edge: EdgeDep
) -> None:
    """Turn two-factor off; needs the password and a code or recovery code."""
    user = _user(principal.user)
    if user.totp_enabled_at is None:
        raise TwoFactorNotStarted()
    matches, _ = await edge.hasher.verify(body.password, user.password_hash)
    if not matches:
        raise CurrentPasswordWrong()
    if body.code:
        _accept_code(user, edge, body.code)
    elif body.recovery_code:
        await accounts.use_recovery_code(db, user, body.recovery_code)
    else:
        raise InvalidSecondFactor()
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    await repository.replace_recovery_codes(db, user.id, [])
    await db.commit()
    await record_for_user(
        edge.runtime.sessions, user.id, AuditAction.TWO_FACTOR_DISABLED
    )


def _user(user: User | None) -> User:
    assert user is not None
    return user


def _accept_code(user: User, edge: Edge, code: str) -> None:
    secret = accounts.totp_secret(user, edge.runtime.secrets.master_keys)
    step = two_factor.accepted_step(secret, code, last_step=user.totp_last_step)
    if step is None:
        raise InvalidSecondFactor()
    user.totp_last_step = step


async def _new_recovery_codes(db: GatewayDb, user: User) -> list[str]:
    codes = two_factor.new_recovery_codes()
    hashes = [two_factor.recovery_code_hash(code) for code in codes]
    await repository.replace_recovery_codes(db, user.id, hashes)
    return codes
