"""What can be wrong with a call from Meta to the webhook paths."""

from __future__ import annotations

from shared.errors import OjimeError, PermissionDenied


class VerifyTokenMismatch(PermissionDenied):
    code = "verify_token_mismatch"
    message = "This subscription check does not carry our verify token."


class SignatureMismatch(PermissionDenied):
    code = "signature_mismatch"
    message = "X-Hub-Signature-256 is missing or does not match the body."


class DeliveryTooLarge(OjimeError):
    status_code = 413
    code = "payload_too_large"
    message = "This delivery is larger than the gateway accepts."


class MalformedDelivery(OjimeError):
    code = "malformed_delivery"
    message = "This delivery is not an Instagram webhook notification."
