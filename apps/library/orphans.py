"""The hourly consistency check between the library storage and the Blob rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.core.files.storage import Storage
from django.utils import timezone

from apps.library import blobs
from apps.library.models import Blob

log = logging.getLogger(__name__)

# Younger bytes may belong to a write whose rows are not committed yet.
GRACE = timedelta(hours=1)
FOLDERS = ("blobs", "thumbs")


def find_orphans(clean: bool) -> dict[str, Any]:
    """Compare storage with the rows; with `clean`, delete what nothing can reach.

    Reports `orphans` (stored blobs and thumbnails no Blob row claims, older than an hour),
    `unused` (Blob rows no version uses, e.g. after their owner was deleted) and `missing`
    (Blob rows whose bytes are gone: only reported, an administrator must restore them).
    """
    unused = list(Blob.objects.filter(versions__isnull=True).values_list("sha256", flat=True))
    if clean:
        _remove_unused(unused)
    # The rows are read before the listing: a blob stored after this read is younger than
    # GRACE, and a row committed after it had its bytes stored before, so they are listed.
    known = set(Blob.objects.values_list("sha256", flat=True))
    storage = blobs.library_storage()
    cutoff = timezone.now() - GRACE
    orphans, present = [], set()
    for name, modified in _listing(storage):
        sha256 = _sha_of(name)
        if sha256 in known:
            if name.startswith("blobs/"):
                present.add(sha256)
        elif _modified(storage, name, modified) < cutoff:
            orphans.append(name)
    if clean:
        for name in orphans:
            storage.delete(name)
    report = {"orphans": orphans, "unused": unused, "missing": sorted(known - present)}
    if any(report.values()):
        log.warning("library check (clean=%s): %s", clean, report)
    return {**report, "removed": len(orphans) + len(unused) if clean else 0}


def _remove_unused(shas: list[str]) -> None:
    for sha256 in shas:
        Blob.objects.filter(sha256=sha256, versions__isnull=True).delete()
        blobs.discard_if_unreferenced(sha256)


def _sha_of(name: str) -> str:
    """blobs/ab/cd/<sha256> and thumbs/<sha256>.jpg both end in the sha256."""
    return name.rsplit("/", 1)[-1].removesuffix(".jpg")


def _modified(storage: Storage, name: str, listed: datetime | None) -> datetime:
    return listed if listed is not None else storage.get_modified_time(name)


def _listing(storage: Storage) -> Iterator[tuple[str, datetime | None]]:
    """Every stored name under FOLDERS, with its modification time when the listing has it."""
    bucket = getattr(storage, "bucket", None)
    for folder in FOLDERS:
        if bucket is not None:
            yield from _bucket_listing(storage, bucket, folder)
        else:
            yield from ((name, None) for name in _walk(storage, folder))


def _bucket_listing(storage: Storage, bucket: Any, folder: str) -> Iterator[tuple[str, datetime]]:
    """S3: one flat, paginated listing (listdir would make a request per folder, 65,000+)."""
    root = str(getattr(storage, "location", "")).strip("/")
    prefix = f"{root}/" if root else ""
    for obj in bucket.objects.filter(Prefix=f"{prefix}{folder}/"):
        yield obj.key.removeprefix(prefix), obj.last_modified


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:  # nothing stored there yet
        return
    yield from (f"{folder}/{name}" for name in files)
    for directory in directories:
        yield from _walk(storage, f"{folder}/{directory}")
