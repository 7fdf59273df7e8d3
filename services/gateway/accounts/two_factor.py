"""Two-factor sign-in: TOTP codes (RFC 6238) and single-use recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp

ISSUER = "Ojime"
RECOVERY_CODE_COUNT = 10
_STEP_SECONDS = 30
# One step either side absorbs a phone clock a little off.
_DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def accepted_step(
    secret: str, code: str, *, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step ``code`` belongs to, or None if it is wrong or was used.

    A step at or before ``last_step`` is refused, so a code seen once, by a
    shoulder or a phishing page, cannot be replayed.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // _STEP_SECONDS)
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.at(step * _STEP_SECONDS), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Codes shown to the user once; each is 10 characters in two groups."""
    return [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]


def _recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_code_hash(code: str) -> bytes:
    # Fifty bits of randomness make a slow hash unnecessary here.
    normalised = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalised.encode()).digest()
