"""Getting uploaded files out of a multipart request and onto local disk."""

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from rest_framework.request import Request

from apps.core.errors import ApiError


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
