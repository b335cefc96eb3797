"""Getting uploaded files out of a multipart request and onto local disk."""

import base64
import binascii
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile, UploadedFile
from rest_framework.request import Request

from apps.core.errors import ApiError

_DATA_URL = re.compile(r"^data:[^,]{0,200}?;base64,", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


def upload_from_base64(value: Any, field: str = "image", name: str = "image") -> UploadedFile:
    """An upload from a base64 string, with or without a `data:…;base64,` prefix (standard
    or URL-safe alphabet, padding optional): 400 INVALID_BASE64 / VALIDATION_ERROR, 413
    FILE_TOO_LARGE past MAX_UPLOAD_SIZE_MB (checked before decoding, then after). What
    the bytes are is checked later, like any upload's. Used by the compatibility APIs and
    the MCP server, whose clients send images inside JSON."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "VALIDATION_ERROR", f"{field} must be a base64-encoded image")
    text = _WHITESPACE.sub("", _DATA_URL.sub("", value.strip(), count=1))
    limit = settings.MAX_UPLOAD_SIZE_MB * 1024 * 1024
    too_large = ApiError(
        413, "FILE_TOO_LARGE", f"{field} exceeds the {settings.MAX_UPLOAD_SIZE_MB} MB upload limit"
    )
    if len(text) * 3 // 4 > limit + 3:  # before decoding: a huge string costs nothing more
        raise too_large
    text = text.replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "INVALID_BASE64", f"{field} is not valid base64") from None
    if not data:
        raise ApiError(400, "VALIDATION_ERROR", f"{field} is empty")
    if len(data) > limit:
        raise too_large
    return SimpleUploadedFile((name or "image").replace("/", "_").replace("\\", "_")[:200], data)


def first_upload(request: Request, fields: Sequence[str]) -> UploadedFile:
    """The file sent under the first of `fields` present; 400 NO_FILE otherwise."""
    for field in fields:
        upload = request.FILES.get(field)
        if upload is not None:
            return upload
    names = " or ".join(f"'{f}'" for f in fields)
    raise ApiError(400, "NO_FILE", f"No file uploaded: send a multipart field {names}")


def save_upload(upload: UploadedFile, directory: Path, name: str) -> Path:
    """Put an upload into `directory` under a safe `name`.

    A large upload (or a staged one) already sits in a file on the same disk: it is moved,
    not copied (Django's TemporaryUploadedFile tolerates its file having been moved).
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / Path(name).name
    if hasattr(upload, "temporary_file_path"):  # Django's temporary uploads, staged files
        try:
            os.replace(upload.temporary_file_path(), target)
            return target
        except OSError:  # another file system: fall back to copying
            pass
    with target.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return target


@contextmanager
def upload_to_path(upload: UploadedFile) -> Iterator[Path]:
    """A local path holding the upload, for as long as the block runs."""
    if isinstance(upload, TemporaryUploadedFile):
        yield Path(upload.temporary_file_path())
        return
    fd, tmp = tempfile.mkstemp(dir=settings.TMP_DIR)
    os.close(fd)
    path = Path(tmp)
    try:
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)
