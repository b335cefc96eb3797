"""Staged uploads: files sent one request each (POST /api/v1/uploads), then named by a
batch's `uploadIds`, so a batch is limited by MAX_BATCH_SIZE, not by the size of one
request (MAX_UPLOAD_SIZE_MB) or a proxy's body limit.

A staged file waits in DATA_DIR/staged/<id>. The batch that names it moves it into the
job's folder (`StagedFile` looks like an upload already on disk) and deletes the row once
the job exists; a failed submission leaves it for another try. Unused ones expire with
the hourly housekeeping, after JOB_RESULT_TTL_HOURS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework.request import Request

from apps.core.disk import require_free_space
from apps.core.errors import ApiError
from apps.core.ownership import owner_of
from apps.core.uploads import save_upload
from apps.jobs.models import StagedUpload
from tools import imaging

FIELD = "uploadIds"


def staged_dir() -> Path:
    return settings.DATA_DIR / "staged"


def staged_path(row: StagedUpload) -> Path:
    return staged_dir() / str(row.pk)


def expires_at(row: StagedUpload) -> Any:
    return row.created_at + timedelta(hours=settings.JOB_RESULT_TTL_HOURS)


def owned_by(user: Any) -> QuerySet[StagedUpload]:
    """A caller's own staged files (an admin's too: nobody uses another's)."""
    owner = owner_of(user)
    rows = StagedUpload.objects.all()
    return rows.filter(owner=owner) if owner is not None else rows.filter(owner__isnull=True)


def stage(user: Any, upload: UploadedFile) -> StagedUpload:
    """Keep one uploaded file for a later batch; at most MAX_BATCH_SIZE wait per user."""
    require_free_space()
    if owned_by(user).count() >= settings.MAX_BATCH_SIZE:
        raise ApiError(
            400,
            "TOO_MANY_FILES",
            f"{settings.MAX_BATCH_SIZE} staged files are already waiting for a batch: "
            "run a batch with them, or wait until they expire",
        )
    name = imaging.display_name(upload.name or "file")
    row = StagedUpload.objects.create(owner=owner_of(user), name=name, size=upload.size or 0)
    save_upload(upload, staged_dir(), str(row.pk))
    return row


def staged_json(row: StagedUpload) -> dict[str, Any]:
    return {
        "uploadId": str(row.pk),
        "name": row.name,
        "size": row.size,
        "expiresAt": expires_at(row).isoformat(),
    }


class StagedFile(UploadedFile):
    """A staged file handed to the submission service as an upload already on disk:
    save_upload moves it (as it moves Django's temporary uploads) instead of copying."""

    def __init__(self, row: StagedUpload) -> None:
        self.row = row
        self.path = staged_path(row)
        super().__init__(self.path.open("rb"), name=row.name, size=row.size)

    def temporary_file_path(self) -> str:
        return str(self.path)


def requested_ids(request: Request) -> list[str]:
    """`uploadIds`: a JSON list (a JSON body, or a form field holding JSON) or repeated
    form fields."""
    data = request.data
    if hasattr(data, "getlist"):
        values = data.getlist(FIELD)
        if len(values) == 1 and values[0].strip().startswith("["):
            values = _json_list(values[0])
    else:
        values = data.get(FIELD) if isinstance(data, dict) else None
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ApiError(400, "VALIDATION_ERROR", f"{FIELD} must be a list of upload ids")
    return values


def _json_list(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ApiError(400, "VALIDATION_ERROR", f"{FIELD} is not valid JSON") from None


def staged_files(request: Request) -> list[StagedFile]:
    """The caller's staged files named by `uploadIds`, in that order; 404 for an id that is
    unknown, expired or someone else's (which are told apart for nobody)."""
    ids = requested_ids(request)
    if len(ids) > settings.MAX_BATCH_SIZE:
        raise ApiError(
            400, "TOO_MANY_FILES", f"a batch takes at most {settings.MAX_BATCH_SIZE} files"
        )
    try:
        wanted = [uuid.UUID(value) for value in ids]
    except ValueError:
        raise ApiError(400, "VALIDATION_ERROR", f"{FIELD} holds an invalid id") from None
    if len(set(wanted)) != len(wanted):
        raise ApiError(400, "VALIDATION_ERROR", f"{FIELD} names a file twice")
    rows = {row.pk: row for row in owned_by(request.user).filter(pk__in=wanted)}
    missing = [str(value) for value in wanted if value not in rows]
    if missing or any(not staged_path(rows[v]).is_file() for v in wanted):
        raise ApiError(
            404, "UPLOAD_NOT_FOUND", "Staged upload not found (expired, used, or not yours)"
        )
    return [StagedFile(rows[value]) for value in wanted]


def consumed(files: Sequence[UploadedFile]) -> None:
    """After the job exists: its staged files moved into it, so their rows go."""
    staged = [f for f in files if isinstance(f, StagedFile)]
    for item in staged:
        item.close()
        item.path.unlink(missing_ok=True)  # moved already, unless it had to be copied
    StagedUpload.objects.filter(pk__in=[f.row.pk for f in staged]).delete()


def expire() -> int:
    """Delete staged files older than JOB_RESULT_TTL_HOURS (rows and files), and files
    left without a row (a crash between the two)."""
    cutoff = timezone.now() - timedelta(hours=settings.JOB_RESULT_TTL_HOURS)
    old = StagedUpload.objects.filter(created_at__lt=cutoff)
    for row in old:
        staged_path(row).unlink(missing_ok=True)
    deleted, _ = old.delete()
    folder = staged_dir()
    if folder.is_dir():
        known = {str(pk) for pk in StagedUpload.objects.values_list("pk", flat=True)}
        stale = cutoff.timestamp()
        for path in folder.iterdir():
            if path.name not in known and path.stat().st_mtime < stale:
                path.unlink(missing_ok=True)
    return deleted
