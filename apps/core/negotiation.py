"""Content negotiation that never answers 406.

Generic clients send `Accept: application/octet-stream`, `image/*` or the media type of
the file they expect (Swagger UI does for binary responses). A file result is streamed
with its own type whatever Accept says; a JSON answer (an error, a job) stays JSON
rather than becoming a 406 that hides what really happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class NeverNotAcceptable(DefaultContentNegotiation):
    """DRF's negotiation, falling back to the first renderer (JSON) instead of 406."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: Any = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
