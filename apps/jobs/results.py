"""What a finished job produced (`Outcome`), and saving image results into the library."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError

from apps.core.errors import ApiError
from apps.jobs.models import Job
from apps.library.models import FileVersion, StoredFile
from apps.library.services import add_version
from tools.base import Output, OutputKind


@dataclass
class Outcome:
    """What a finished job produced: a file to keep, or JSON."""

    path: Path | None = None
    name: str = ""
    media_type: str = "application/octet-stream"
    data: dict[str, Any] | None = None
    engine: str = ""
    model: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    device: str = ""
    model_sha256: str = ""

    @classmethod
    def from_output(cls, output: Output, name: str) -> Outcome:
        return cls(
            path=output.path if output.kind is not OutputKind.JSON else None,
            name=name,
            media_type=output.media_type,
            data=output.data,
            engine=output.engine,
            model=output.model or "",
            info=dict(output.extras),
            device=output.device,
            model_sha256=output.model_sha256 or "",
        )


def download_name(stem_from: str, suffix_of: str, tag: str) -> str:
    """`<stem of the input>_<tool or "pipeline">.<extension of the output>`."""
    stem = Path(stem_from).stem or "image"
    return f"{stem}_{tag}{Path(suffix_of).suffix}"


def save_version(job: Job, index: int, output: Output | Outcome) -> FileVersion | None:
    """Make input `index`'s image result the next version of the library file the request
    named for it (`fileId` / `fileIds`), with the job as its provenance; None if it named
    none or the result is no image. Once per input: a retried job (its worker died after
    saving) gets the version it saved before, not a second one."""
    file_id = job.library_files[index] if index < len(job.library_files) else None
    if not file_id or output.path is None or not output.media_type.startswith("image/"):
        return None
    saved = FileVersion.objects.filter(job_id=job.pk, job_input=index).first()
    if saved is not None:
        return saved
    stored = StoredFile.objects.filter(pk=file_id).first()
    if stored is None:
        raise ApiError(404, "NOT_FOUND", "The library file was deleted while the job ran")
    pipeline = job.is_pipeline
    try:
        return add_version(
            stored,
            output.path,
            source=FileVersion.Source.PIPELINE if pipeline else FileVersion.Source.TOOL,
            tool_id=job.tool_id,
            settings=job.provenance_settings,
            engine=output.engine,
            model=output.model or "",
            model_sha256=output.model_sha256 or "",
            device=output.device,
            job_id=job.pk,
            job_input=index,
        )
    except IntegrityError:  # a late attempt of the same job saved it meanwhile
        return FileVersion.objects.get(job_id=job.pk, job_input=index)
