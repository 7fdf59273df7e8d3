"""What can go wrong when signing up, in or out."""

from __future__ import annotations

from shared.errors import Conflict, NotAuthenticated, OjimeError, PermissionDenied


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this email exists already."


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"
    message = "The email or the password is not right."


class SecondFactorRequired(NotAuthenticated):
    code = "two_factor_required"
    message = "Enter the code from your authenticator app or a recovery code."


class InvalidSecondFactor(NotAuthenticated):
    code = "invalid_two_factor_code"
    message = "The code is not right, or was used already."


class CurrentPasswordWrong(PermissionDenied):
    code = "current_password_wrong"
    message = "The current password is not right."


class CsrfRefused(PermissionDenied):
    code = "csrf_refused"
    message = "The request's origin or CSRF token is not accepted."


class SessionNotFound(OjimeError):
    status_code = 404
    code = "session_not_found"
    message = "No such session."


class TwoFactorAlreadyEnabled(Conflict):
    code = "two_factor_already_enabled"
    message = "Two-factor sign-in is on already."


class TwoFactorNotStarted(Conflict):
    code = "two_factor_not_started"
    message = "Start the two-factor setup first."
