"""Request bodies of the compatibility APIs: JSON with base64 images, or raw image bytes,
up to MAX_UPLOAD_SIZE_MB (the limit of every request).

DRF's JSONParser reads `request.body`, which Django caps at DATA_UPLOAD_MAX_MEMORY_SIZE
(4 MB, meant for form fields): an A1111 client's base64 PNG of 2048x2048, or a Jellyfin
1080p frame, is larger. These parsers are no JSONParser subclasses, so DRF hands them the
stream itself.
"""

from __future__ import annotations

import json
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from apps.core.errors import ApiError


def read_body(stream: IO[bytes] | None) -> bytes:
    """The whole body, or 413 FILE_TOO_LARGE past MAX_UPLOAD_SIZE_MB."""
    limit = settings.MAX_UPLOAD_SIZE_MB * 1024 * 1024
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise ApiError(
            413, "FILE_TOO_LARGE", f"The body exceeds the {settings.MAX_UPLOAD_SIZE_MB} MB limit"
        )
    return data


class LargeJSONParser(BaseParser):
    """JSON bodies up to MAX_UPLOAD_SIZE_MB; malformed or deeply nested JSON is a 400."""

    media_type = "application/json"

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        try:
            return json.loads(read_body(stream))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(f"JSON parse error - {str(exc)[:200]}") from None


class RawBodyParser(BaseParser):
    """Any other content type: the body's bytes (an image posted as itself)."""

    media_type = "*/*"

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        return read_body(stream)
