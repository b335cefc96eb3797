"""Library files as job inputs, and job results as new versions of library files.

A request names library files with `fileId` (tool calls, pipelines: in the settings or
as a form field) or `fileIds` (batches). Such a file's latest version can stand in for
an upload, and an image result becomes the file's next version, with its provenance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apps.core.errors import ApiError
from apps.jobs.models import Job
from apps.library.models import FileVersion, StoredFile
from apps.library.services import add_version, visible_file


def target_file(user: Any, file_id: Any) -> StoredFile | None:
    """The visible library file a request names, None if it names none; 404 otherwise."""
    if file_id in (None, ""):
        return None
    if not isinstance(file_id, str):
        raise ApiError(400, "VALIDATION_ERROR", "fileId must be a string (a library file id)")
    return visible_file(user, file_id)


def target_files(user: Any, raw: Any) -> list[StoredFile]:
    """`fileIds`: a JSON array (or a repeated form field) of visible library file ids."""
    if raw in (None, "", []):
        return []
    ids = raw
    if isinstance(raw, str):
        try:
            ids = json.loads(raw) if raw.lstrip().startswith("[") else [raw]
        except json.JSONDecodeError:
            raise ApiError(400, "VALIDATION_ERROR", "fileIds must be a JSON array") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "VALIDATION_ERROR", "fileIds must be an array of file ids")
    return [visible_file(user, i) for i in ids]


def save_result(
    job: Job, index: int, path: Path, media_type: str, engine: str, model: str
) -> FileVersion | None:
    """Make an image result the next version of the library file named for input `index`."""
    file_id = job.library_files[index] if index < len(job.library_files) else None
    if not file_id or not media_type.startswith("image/"):
        return None
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        raise ApiError(404, "NOT_FOUND", "The library file was deleted while the job ran")
    pipeline = job.kind in (Job.Kind.PIPELINE, Job.Kind.PIPELINE_BATCH)
    return add_version(
        stored,
        path,
        source=FileVersion.Source.PIPELINE if pipeline else FileVersion.Source.TOOL,
        tool_id="pipeline" if pipeline else job.tool_id,
        settings=job.settings,
        engine=engine,
        model=model,
        job=job,
    )
