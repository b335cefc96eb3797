"""Several library files as one ZIP of their latest versions ("download selected").

The ZIP is written to an anonymous temporary file (gone when the response closes it) and
streamed from there: memory stays flat however many files are chosen. Entries are named
as single downloads are, numbered when two would collide (case-insensitively, as Windows
and macOS unzip).
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings

from apps.library import blobs
from apps.library.models import FileVersion, StoredFile
from tools import imaging


def entry_name(stored: StoredFile, version: FileVersion, taken: set[str]) -> str:
    base = PurePosixPath(stored.name).stem or "file"
    suffix = imaging.extension(version.format)
    name, copy = f"{base}{suffix}", 2
    while name.lower() in taken:
        name, copy = f"{base} ({copy}){suffix}", copy + 1
    taken.add(name.lower())
    return name


def zip_latest(files: Sequence[StoredFile]) -> IO[bytes]:
    """An open temporary file holding the ZIP, positioned at its start."""
    # Not a `with`: the response streams the file and closes it (which deletes it).
    handle = tempfile.TemporaryFile(dir=settings.TMP_DIR)  # noqa: SIM115
    taken: set[str] = set()
    latest = {f.pk: f.latest_version for f in files}
    versions = {
        v.file_id: v
        for v in FileVersion.objects.select_related("blob").filter(file__in=files)
        if v.number == latest[v.file_id]
    }
    with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
        for stored in files:
            version = versions[stored.pk]
            path = blobs.local_path(version.blob.key)
            source = path.open("rb") if path else blobs.library_storage().open(version.blob.key)
            with source, archive.open(entry_name(stored, version, taken), "w") as entry:
                while chunk := source.read(1024 * 1024):
                    entry.write(chunk)
    handle.seek(0)
    return handle
