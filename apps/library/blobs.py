"""Bytes in the `library` storage: content-addressed blobs, their thumbnails, local copies.

Every write goes through a finished temporary file (`spool`): the bytes are hashed while
they are copied there, and the local storage then moves the whole file into place, so a
key never holds half a blob. S3 uploads are atomic by themselves.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

from apps.library.models import Blob

CHUNK = 1024 * 1024


def library_storage() -> Storage:
    return storages["library"]


def blob_key(sha256: str) -> str:
    """blobs/ab/cd/abcd…: two levels of folders keep any one folder small."""
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def thumbnail_key(sha256: str) -> str:
    return f"thumbs/{sha256}.jpg"


@dataclass(frozen=True)
class Spooled:
    """A complete temporary copy of some content, with its sha256 and size."""

    path: Path
    sha256: str
    size: int


class _FinishedFile(File):
    """A complete local file: FileSystemStorage moves it into place instead of copying."""

    def temporary_file_path(self) -> str:
        return str(self.name)


@contextmanager
def scratch_file(suffix: str = "") -> Iterator[Path]:
    """A new empty file in TMP_DIR, removed after the block (unless the storage moved it)."""
    fd, name = tempfile.mkstemp(dir=settings.TMP_DIR, suffix=suffix)
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def spool(chunks: Iterable[bytes], suffix: str = "") -> Iterator[Spooled]:
    """Copy `chunks` to a scratch file while hashing them; the copy goes after the block."""
    with scratch_file(suffix) as path:
        digest, size = hashlib.sha256(), 0
        with path.open("wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        yield Spooled(path, digest.hexdigest(), size)


def file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def put(key: str, path: Path) -> None:
    """Store the finished file at `path` under `key` (moving it when the storage is local)."""
    with path.open("rb") as fh:
        name = library_storage().save(key, _FinishedFile(fh, name=str(path)))
    if name != key:  # rows name blobs by key: a storage that renames would lose them
        raise ImproperlyConfigured(f"The library storage saved {key} as {name}: allow overwrites")


def local_path(key: str) -> Path | None:
    """The key's path on this machine, or None for any other storage (S3)."""
    storage = library_storage()
    return Path(storage.path(key)) if isinstance(storage, FileSystemStorage) else None


@contextmanager
def local_file(key: str, suffix: str = "") -> Iterator[Path]:
    """A local path holding the key's bytes: the stored file itself, or a temporary download.

    The stored file is shared by every version with the same content: read it, never
    modify or move it.
    """
    path = local_path(key)
    if path is not None:
        yield path
        return
    with library_storage().open(key, "rb") as remote, spool(remote.chunks(CHUNK), suffix) as copy:
        yield copy.path


def discard_if_unreferenced(sha256: str) -> None:
    """Remove a blob and its thumbnail from storage unless a Blob row (still) claims them.

    Called after a failed write and after a delete has committed: a crash in between leaves
    bytes without a row (found by the orphan check), never a row without bytes.
    """
    if Blob.objects.filter(sha256=sha256).exists():
        return
    storage = library_storage()
    storage.delete(blob_key(sha256))
    storage.delete(thumbnail_key(sha256))
