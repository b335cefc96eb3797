"""Request guards that must run before a view reads the body, and the database-busy answer."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponse
from django.middleware import clickjacking, common, csrf, locale, security

from apps.core.errors import (
    database_busy,
    database_busy_response,
    error_response,
    storage_failure,
)

log = logging.getLogger(__name__)


def upload_limit_bytes() -> int:
    return settings.MAX_UPLOAD_SIZE_MB * 1024 * 1024


def too_large_message() -> str:
    return f"Request body exceeds the {settings.MAX_UPLOAD_SIZE_MB} MB upload limit"


class UploadLimitMiddleware:
    """413 for a declared Content-Length over MAX_UPLOAD_SIZE_MB, before parsing.

    Under the ASGI server, `config.asgi.BodyLimit` already refused such a request
    without reading it (and cut off chunked bodies that grow past the limit); this
    covers WSGI and the test client.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(400, "BAD_REQUEST", "Invalid Content-Length header")
        if length > upload_limit_bytes():
            return error_response(413, "FILE_TOO_LARGE", too_large_message())
        return self.get_response(request)


class DatabaseBusyMiddleware:
    """503 DATABASE_BUSY (with Retry-After) instead of a 500 when a plain Django view, such
    as the SSE progress stream, found no free pooled database connection in time; 507 when
    it met a full or read-only disk. DRF views get the same answers from
    apps.core.errors.exception_handler."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if (failure := storage_failure(exception)) is not None:
            log.error("Storage failure in %s %s: %s", request.method, request.path, exception)
            return error_response(failure.status_code, failure.code, failure.message)
        if not database_busy(exception):
            return None
        log.warning("No free database connection for %s %s: 503", request.method, request.path)
        return database_busy_response()


# What an HTML page (the web UI, the API docs) may load: its own scripts only (Swagger UI's
# init script is a separate file, drf-spectacular's CSP-friendly mode), inline styles,
# images from itself and data:/blob: URLs (previews). No page may be framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on HTML responses that do not set their own. The other
    security headers come from Django's SecurityMiddleware (nosniff, Referrer-Policy,
    HSTS over https: settings SECURE_*) and XFrameOptionsMiddleware (DENY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


# --- Django's own middleware, sync only --------------------------------------------
# Under ASGI Django runs a middleware that can do both in its async mode, and each of
# those hands its process_request/process_response to a thread and back: a dozen hops
# per request. With every middleware sync only, Django hops to the request's thread once
# and the whole chain and the view run there (bench/http_compare.py, issue 14).


class SecurityMiddleware(security.SecurityMiddleware):
    async_capable = False


class CommonMiddleware(common.CommonMiddleware):
    async_capable = False


class SessionMiddleware(sessions.SessionMiddleware):
    async_capable = False


class CsrfViewMiddleware(csrf.CsrfViewMiddleware):
    async_capable = False


class LocaleMiddleware(locale.LocaleMiddleware):
    async_capable = False


class XFrameOptionsMiddleware(clickjacking.XFrameOptionsMiddleware):
    async_capable = False
