"""One JSON error shape everywhere: {"error": "human message", "code": "MACHINE_CODE"}.

Views raise `ApiError` (or a DRF exception); `exception_handler` turns every DRF
exception into that shape, and `json_404` / `json_500` cover Django's own handlers.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DatabaseError
from django.http import Http404, HttpRequest, JsonResponse
from psycopg_pool import PoolTimeout
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tools.base import ToolError

log = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error with an explicit status, machine code and message."""

    def __init__(self, status_code: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.extra = extra


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"error": message, "code": code, **extra}


def error_response(status_code: int, code: str, message: str, **extra: Any) -> JsonResponse:
    """The error shape for plain Django views and middleware."""
    return JsonResponse(error_body(message, code, **extra), status=status_code)


# A request that found no free database connection: worth retrying soon.
DATABASE_BUSY_RETRY_AFTER_S = 1
DATABASE_BUSY_MESSAGE = "The server is busy (no free database connection); retry shortly"


def database_busy(exc: BaseException) -> bool:
    """The connection pool had no free connection within DB_POOL_TIMEOUT_S (Django wraps
    psycopg_pool's PoolTimeout in its own OperationalError)."""
    return isinstance(exc, PoolTimeout) or isinstance(exc.__cause__, PoolTimeout)


def database_busy_response() -> JsonResponse:
    """503 DATABASE_BUSY with Retry-After, for plain Django views and middleware."""
    response = error_response(
        503, "DATABASE_BUSY", DATABASE_BUSY_MESSAGE, retryAfter=DATABASE_BUSY_RETRY_AFTER_S
    )
    response["Retry-After"] = str(DATABASE_BUSY_RETRY_AFTER_S)
    return response


def is_disk_full(exc: BaseException) -> bool:
    """A write failed because the disk is full: the OS said so, or the database did
    (SQLite: "database or disk is full"; PostgreSQL: "No space left on device")."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    if isinstance(exc, DatabaseError):
        text = str(exc).lower()
        return "disk is full" in text or "no space left" in text
    return False


def storage_failure(exc: BaseException) -> ApiError | None:
    """A full or read-only disk met while serving a request (an upload being spooled, a
    session written): 507, said plainly, rather than a 500."""
    if is_disk_full(exc):
        message = "The server's disk is full: the request could not be stored"
        return ApiError(507, "DISK_FULL", message)
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        message = "The server's storage is read-only: the request could not be stored"
        return ApiError(507, "STORAGE_READ_ONLY", message)
    return None


_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.NotAuthenticated: "AUTH_REQUIRED",
    exceptions.AuthenticationFailed: "AUTH_INVALID",
    exceptions.PermissionDenied: "FORBIDDEN",
    exceptions.NotFound: "NOT_FOUND",
    exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    exceptions.NotAcceptable: "NOT_ACCEPTABLE",
    exceptions.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
    exceptions.ParseError: "INVALID_REQUEST_BODY",
    exceptions.Throttled: "RATE_LIMITED",
    exceptions.ValidationError: "VALIDATION_ERROR",
}


def _first_message(detail: Any, prefix: str = "") -> str:
    """Flatten DRF's nested error detail into one readable sentence."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            label = "" if key == "non_field_errors" else f"{key}: "
            return _first_message(value, prefix + label)
        return prefix.rstrip(": ") or "Invalid request"
    if isinstance(detail, list):
        return _first_message(detail[0], prefix) if detail else prefix or "Invalid request"
    return f"{prefix}{detail}"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every exception becomes {"error", "code"}."""
    if isinstance(exc, ToolError):
        exc = ApiError(exc.status, exc.code, exc.message)
    elif isinstance(exc, RequestDataTooBig):
        exc = ApiError(413, "FILE_TOO_LARGE", "Request fields exceed the allowed size")
    elif isinstance(exc, TooManyFilesSent):
        exc = ApiError(400, "TOO_MANY_FILES", "Too many files in one request")
    elif isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        exc = ApiError(400, "TOO_MANY_FIELDS", f"More than {limit} fields or query parameters")
    elif isinstance(exc, SuspiciousOperation):
        exc = ApiError(400, "BAD_REQUEST", "Bad request")
    elif isinstance(exc, Http404):  # Django's own 404 (get_object_or_404 and friends)
        exc = ApiError(404, "NOT_FOUND", "Not found")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = ApiError(403, "FORBIDDEN", "You do not have permission to perform this action.")
    elif database_busy(exc):
        log.warning("No free database connection for %s: 503", context.get("view"))
        exc = ApiError(
            503, "DATABASE_BUSY", DATABASE_BUSY_MESSAGE, retryAfter=DATABASE_BUSY_RETRY_AFTER_S
        )
    elif (failure := storage_failure(exc)) is not None:
        log.error("Storage failure in %s: %s", context.get("view"), exc)
        exc = failure
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body("Internal server error", "INTERNAL_ERROR"),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, ApiError):
        response.data = error_body(exc.message, exc.code, **exc.extra)
        if "retryAfter" in exc.extra:
            response["Retry-After"] = str(exc.extra["retryAfter"])
        return response
    assert isinstance(exc, exceptions.APIException)  # the other kinds were mapped above
    code = _CODES.get(type(exc)) or next(
        (c for cls, c in _CODES.items() if isinstance(exc, cls)), "ERROR"
    )
    extra: dict[str, Any] = {}
    wait = getattr(exc, "wait", None)  # set by DRF on Throttled
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        extra["retryAfter"] = max(1, round(wait))
    response.data = error_body(_first_message(exc.detail), code, **extra)
    return response


def json_404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(404, "NOT_FOUND", f"No route for {request.method} {request.path}")


def json_500(request: HttpRequest) -> JsonResponse:
    return error_response(500, "INTERNAL_ERROR", "Internal server error")


def json_400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(400, "BAD_REQUEST", "Bad request")


def json_403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(403, "FORBIDDEN", "Forbidden")
