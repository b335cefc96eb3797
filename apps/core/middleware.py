"""Request guards that must run before a view reads the body."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.core.errors import error_response


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
