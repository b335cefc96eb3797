"""File responses that stream from disk under ASGI as well as WSGI.

Django's FileResponse iterates the file synchronously; under ASGI Django then reads
the WHOLE iterator into memory before sending (see StreamingHttpResponse.__aiter__).
A batch ZIP can be gigabytes, so under ASGI we hand Django an async iterator instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, StreamingHttpResponse

CHUNK = 256 * 1024


def is_asgi(request: Any) -> bool:
    django_request = getattr(request, "_request", request)  # DRF wraps the HttpRequest
    return isinstance(django_request, ASGIRequest)


class DiskFileResponse(FileResponse):
    """A FileResponse whose file is read chunk by chunk in a thread under ASGI."""

    block_size = CHUNK
    in_memory = False  # its whole content was read at once: closing it loses nothing

    def __init__(self, *args: Any, asynchronous: bool = False, **kwargs: Any) -> None:
        self.asynchronous = asynchronous  # read by _set_streaming_content, called below
        super().__init__(*args, **kwargs)

    def _set_streaming_content(self, value: Any) -> None:
        super()._set_streaming_content(value)  # type: ignore[misc]  # private in the stubs
        filelike = self.file_to_stream
        if self.asynchronous and filelike is not None:
            length = int(self.headers.get("Content-Length") or CHUNK + 1)
            # A small file (most single-image results) is read here, on the view's thread:
            # one read, and no hop to another thread to send it.
            self.in_memory = length <= CHUNK  # apps.core.asgi may close it before it is sent
            content = _once(filelike.read()) if self.in_memory else _chunks(filelike)
            StreamingHttpResponse._set_streaming_content(self, content)  # type: ignore[attr-defined]


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _chunks(filelike: Any) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(filelike.read, CHUNK):
        yield chunk


def stream_file(request: HttpRequest | Any, handle: Any, **kwargs: Any) -> DiskFileResponse:
    return DiskFileResponse(handle, asynchronous=is_asgi(request), **kwargs)
