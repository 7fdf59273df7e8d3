"""One error shape for every 4xx and 5xx of every service.

Domain code raises a subclass of :class:`OjimeError` named after the situation
(``ContactNotFound``); the handlers installed by :func:`install_error_handlers`
turn it, and every error FastAPI or Starlette raises, into::

    {"error": {"code": "contact_not_found", "message": "...",
               "request_id": "...", "details": [...]}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.context import current_request_id


class OjimeError(Exception):
    """Base of every error a service answers with on purpose."""

    status_code: int = 400
    code: str = "bad_request"
    message: str = "The request could not be handled."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.details = details or []
        self.headers = headers or {}
        super().__init__(self.message)


class NotAuthenticated(OjimeError):
    status_code = 401
    code = "not_authenticated"
    message = "Authentication is required."


class PermissionDenied(OjimeError):
    status_code = 403
    code = "permission_denied"
    message = "You are not allowed to do this."


class NotFound(OjimeError):
    status_code = 404
    code = "not_found"
    message = "Nothing was found at this address."


class Conflict(OjimeError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class ServiceUnavailable(OjimeError):
    status_code = 503
    code = "service_unavailable"
    message = "A service this request needs is not available."


_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The body every error response carries."""
    return {
        "error": {
            "code": code,
            "message": message,
            "request_id": current_request_id(),
            "details": details or [],
        }
    }


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, details), status_code=status_code, headers=headers
    )


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The raw input is left out: it may hold a password or personal data.
    return [
        {
            "location": [str(part) for part in error.get("loc", ())],
            "message": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]


async def _ojime_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OjimeError)
    return error_response(
        exc.status_code, exc.code, exc.message, exc.details, exc.headers
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(
        422,
        "validation_failed",
        "The request is not valid.",
        _validation_details(exc),
    )


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer with the one error body."""
    app.add_exception_handler(OjimeError, _ojime_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Unexpected exceptions are answered by RequestContextMiddleware, which
    # still knows the request id when they reach it.
