"""The library's writes, and the functions other apps (tool calls, pipelines) call.

Every write follows one order: the content is hashed while it is copied to a scratch
file, checked (image type, pixel limit, quota), put into storage, and only then are the
rows written, in one transaction. A failure at any step removes the blobs this call newly
stored, so no row points at missing bytes and no bytes are left without a row (a crash
that leaves some anyway is found by `find_orphans`, run hourly).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings as conf
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone

from apps.accounts.models import User
from apps.core.disk import require_free_space
from apps.core.errors import ApiError
from apps.library import blobs
from apps.library.facts import ImageFacts, read_facts
from apps.library.models import Blob, FileVersion, StoredFile
from apps.library.orphans import find_orphans
from apps.library.signals import file_created, file_deleted
from tools import imaging

__all__ = [
    "add_version",
    "check_quota",
    "delete_file",
    "files_visible_to",
    "find_orphans",
    "latest_version",
    "local_copy",
    "store_upload",
    "store_uploads",
    "usage_bytes",
    "visible_file",
    "visible_files",
]

MB = 1024 * 1024


def files_visible_to(user: Any) -> QuerySet[StoredFile]:
    """The files `user` may see (apps.core.ownership), with their owners."""
    return StoredFile.objects.visible_to(user).select_related("owner")


def visible_file(user: Any, file_id: UUID | str) -> StoredFile:
    """The file if `user` may see it, else 404 NOT_FOUND (for ids that are no UUID, too):
    another user's file is not found, so its existence is not disclosed."""
    try:
        pk = file_id if isinstance(file_id, UUID) else UUID(str(file_id))
    except ValueError:
        pk = None
    stored = files_visible_to(user).filter(pk=pk).first() if pk is not None else None
    if stored is None:
        raise ApiError(404, "NOT_FOUND", "File not found")
    return stored


def visible_files(user: Any, file_ids: Sequence[str]) -> list[StoredFile]:
    """The files `user` may see, in the order named, in one query; 404 NOT_FOUND if any
    is not one of them (as `visible_file` answers for one)."""
    keys: list[UUID] = []
    for file_id in file_ids:
        try:
            keys.append(UUID(str(file_id)))
        except ValueError:
            raise ApiError(404, "NOT_FOUND", "File not found") from None
    found = {f.pk: f for f in files_visible_to(user).filter(pk__in=keys)}
    if any(key not in found for key in keys):
        raise ApiError(404, "NOT_FOUND", "File not found")
    return [found[key] for key in keys]


def latest_version(stored: StoredFile) -> FileVersion:
    return stored.versions.select_related("blob").get(number=stored.latest_version)


def usage_bytes(owner: User | None) -> int:
    """What counts against the owner's quota: the sizes of all versions of their files."""
    total = FileVersion.objects.filter(file__owner=owner).aggregate(total=Sum("size"))["total"]
    return int(total or 0)


def check_quota(owner: User | None, extra_bytes: int) -> None:
    """413 QUOTA_EXCEEDED when `extra_bytes` more would exceed STORAGE_QUOTA_MB (0 = no limit)."""
    if not conf.STORAGE_QUOTA_MB:
        return
    used = usage_bytes(owner)
    if used + extra_bytes > conf.STORAGE_QUOTA_MB * MB:
        raise ApiError(
            413,
            "QUOTA_EXCEEDED",
            f"Storing {extra_bytes / MB:.1f} MB more would exceed the storage quota of "
            f"{conf.STORAGE_QUOTA_MB} MB ({used / MB:.1f} MB used)",
        )


def store_upload(owner: User | None, upload: UploadedFile) -> StoredFile:
    """A new library file from one upload (version 1, source "upload")."""
    return store_uploads(owner, [upload])[0]


def store_uploads(owner: User | None, uploads: Sequence[UploadedFile]) -> list[StoredFile]:
    """New library files from uploads, all or none.

    Every file is checked (an image we can decode, within MAX_MEGAPIXELS) and then the
    quota for their total, before anything is stored: a bad file fails the whole call
    with an error naming it.
    """
    require_free_space()
    with ExitStack() as stack:
        items = [stack.enter_context(blobs.spool(upload.chunks())) for upload in uploads]
        facts = [
            read_facts(item.path, upload.name or "file", conf.MAX_MEGAPIXELS)
            for item, upload in zip(items, uploads, strict=True)
        ]
        check_quota(owner, sum(item.size for item in items))
        with _storing(items), transaction.atomic():
            stored = [_new_file(owner, item, fact) for item, fact in zip(items, facts, strict=True)]
    for new in stored:
        file_created.send_robust(sender=StoredFile, file=new)
    return stored


def add_version(
    stored_file: StoredFile,
    path: Path,
    *,
    source: str,
    tool_id: str = "",
    settings: dict[str, Any] | None = None,
    engine: str = "",
    model: str = "",
    model_sha256: str = "",
    device: str = "",
    job_id: UUID | None = None,
    job_input: int | None = None,
) -> FileVersion:
    """Make the image at `path` (a tool's result) the file's next version, with its provenance.

    `path` is copied, not moved. The quota applies; the pixel limit does not (the image was
    already produced; a thumbnail of an over-limit version is refused when asked for).
    Call it outside a transaction that may roll back, or the blob outlives its rows until
    the orphan check.
    """
    if source not in FileVersion.Source.values:
        raise ValueError(f"source must be one of {FileVersion.Source.values}, got {source!r}")
    require_free_space()
    provenance = {
        "source": source,
        "tool_id": tool_id,
        "settings": settings or {},
        "engine": engine,
        "model": model,
        "model_sha256": model_sha256,
        "device": device,
        "job_id": job_id,
        "job_input": job_input,
    }
    with blobs.spool(blobs.file_chunks(path)) as item:
        facts = read_facts(item.path, stored_file.name, None)
        check_quota(stored_file.owner, item.size)
        with _storing([item]), transaction.atomic():
            locked = StoredFile.objects.select_for_update().filter(pk=stored_file.pk).first()
            if locked is None:
                raise ApiError(404, "NOT_FOUND", "The library file was deleted")
            version = _append(locked, _blob_row(item), facts, provenance, timezone.now())
    stored_file.refresh_from_db()
    return version


@contextmanager
def local_copy(version: FileVersion) -> Iterator[Path]:
    """A local path of the version's bytes, for processing: the stored file itself (read
    it, never modify or move it: other versions share it), or for S3 a temporary download
    removed after the block."""
    with blobs.local_file(version.blob.key, imaging.extension(version.format)) as path:
        yield path


def delete_file(stored_file: StoredFile) -> None:
    """Delete a file and its version chain; a blob (and its thumbnail) goes only when no
    other version uses it. Bytes are removed after the rows are gone, so a crash in
    between leaves an orphan for the hourly check, never a row without bytes."""
    file_id = stored_file.pk
    with transaction.atomic():
        used = set(stored_file.versions.values_list("blob_id", flat=True))
        stored_file.delete()
        unused = used - set(
            FileVersion.objects.filter(blob_id__in=used).values_list("blob_id", flat=True)
        )
        Blob.objects.filter(sha256__in=unused).delete()
    for sha256 in unused:
        blobs.discard_if_unreferenced(sha256)
    file_deleted.send_robust(sender=StoredFile, file=stored_file, file_id=file_id)


@contextmanager
def _storing(items: Sequence[blobs.Spooled]) -> Iterator[None]:
    """Put the blobs the block's rows will use into storage; if the block fails, remove
    those this call stored (unless a row of another call claims them by then)."""
    new: list[str] = []
    try:
        for item in items:
            if item.sha256 in new or Blob.objects.filter(sha256=item.sha256).exists():
                continue  # stored already: identical content is kept once
            new.append(item.sha256)  # before the write, so a write failing half-way is undone
            blobs.put(blobs.blob_key(item.sha256), item.path)
        yield
    except BaseException:
        for sha256 in new:
            blobs.discard_if_unreferenced(sha256)
        raise


def _blob_row(item: blobs.Spooled) -> Blob:
    blob, _ = Blob.objects.get_or_create(
        sha256=item.sha256, defaults={"size": item.size, "key": blobs.blob_key(item.sha256)}
    )
    return blob


def _new_file(owner: User | None, item: blobs.Spooled, facts: ImageFacts) -> StoredFile:
    now = timezone.now()
    stored = StoredFile(
        owner=owner, name=facts.name, search_name=facts.name.casefold(), created_at=now
    )
    _append(stored, _blob_row(item), facts, {"source": FileVersion.Source.UPLOAD}, now)
    return stored


def _append(
    stored: StoredFile, blob: Blob, facts: ImageFacts, provenance: dict[str, Any], now: datetime
) -> FileVersion:
    """Save `blob` as the file's next version (made at `now`), and its facts as the file's."""
    stored.latest_version += 1
    stored.version_count += 1
    stored.size, stored.width, stored.height = blob.size, facts.width, facts.height
    stored.format, stored.updated_at = facts.format, now
    stored.save()
    return FileVersion.objects.create(
        file=stored,
        number=stored.latest_version,
        blob=blob,
        size=blob.size,
        width=facts.width,
        height=facts.height,
        format=facts.format,
        media_type=facts.media_type,
        created_at=now,
        app_version=conf.VERSION,
        **provenance,
    )
