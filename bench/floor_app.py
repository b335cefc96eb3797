"""The floor for bench/http_compare.py --floor: our resize behind the thinnest Python server.

A bare ASGI app under the same uvicorn (uvloop + httptools) as `make run`: it reads the
body, parses it with Django's multipart parser (as our API does), runs the engine's
resize tool on the upload (a file in a temporary folder, libvips one thread per
operation, as in our web process) and answers the JPEG. No Django request, middleware,
DRF, authentication, job row or result kept: what is left is the cost any Python
ASGI front-end pays for this work, so the gap between "floor" and "ours" is what our
platform adds, and the gap between "floor" and "theirs" is what no change inside
the platform can close. Benchmark code only: never served by the product.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import django
from django.conf import settings

if not settings.configured:  # the multipart parser reads a few upload settings
    settings.configure(FILE_UPLOAD_MAX_MEMORY_SIZE=64 * 2**20, DATA_UPLOAD_MAX_NUMBER_FIELDS=10)
    django.setup()

import pyvips
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http.multipartparser import MultiPartParser

from tools import imaging, registry, runner
from tools.base import Context, Tool

sys.setswitchinterval(0.001)  # as config/asgi.py
pyvips.concurrency_set(1)  # as WEB_VIPS_CONCURRENCY=1
pyvips.cache_set_max(0)
SCRATCH = Path(tempfile.mkdtemp(prefix="floor-"))
_resize = registry.get("resize")
assert _resize is not None
RESIZE: Tool = _resize


def resize(body: bytes, content_type: str) -> bytes:
    meta = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body))}
    fields, files = MultiPartParser(meta, io.BytesIO(body), [MemoryFileUploadHandler()]).parse()
    upload: Any = files["file"]
    folder = SCRATCH / uuid.uuid4().hex
    folder.mkdir()
    try:
        path = folder / "input"
        path.write_bytes(upload.read())
        source = imaging.open_source(path, upload.name)
        ctx = Context(scratch_dir=folder, watched=False)
        output = runner.execute(RESIZE, [source], json.loads(str(fields["settings"])), ctx)
        assert output.path is not None
        return output.path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/health":
        await _answer(send, 200, b"application/json", b'{"status":"ok"}')
        return
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    content_type = dict(scope["headers"]).get(b"content-type", b"").decode()
    loop = asyncio.get_running_loop()
    jpeg = await loop.run_in_executor(None, resize, b"".join(parts), content_type)
    await _answer(send, 200, b"image/jpeg", jpeg)


async def _answer(send: Any, status: int, media_type: bytes, body: bytes) -> None:
    headers = [(b"content-type", media_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
