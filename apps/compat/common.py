"""What every compatibility adapter shares: results as base64, running one tool through
the submission service, and reading a finished job's result or error. Images that come
as base64 become uploads with apps.core.uploads.upload_from_base64.

An adapter translates a foreign request into a tool call and the job back into the
foreign response; it never processes pixels itself (that is the engine's, in tools/).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from apps.core.errors import ApiError
from apps.jobs import services, storage
from apps.jobs.models import Job
from apps.jobs.steps import enabled_tool, tool_step


def to_base64(data: bytes) -> str:
    """Raw base64 (no `data:` prefix), as the foreign APIs answer."""
    return base64.b64encode(data).decode("ascii")


def submit_tool(
    user: Any,
    tool_id: str,
    tool_settings: dict[str, Any],
    uploads: Sequence[UploadedFile],
    *,
    asynchronous: bool = False,
) -> Job:
    """One tool over the uploads, exactly as POST /api/v1/tools/<id> runs it: the tool
    must be enabled, its settings valid (400 naming the field) before any job exists."""
    step = tool_step(enabled_tool(tool_id), tool_settings)
    work = services.Work(steps=[step], uploads=list(uploads))
    job = services.submit(user, work, asynchronous=asynchronous)
    return job if asynchronous else finished(job)


def finished(job: Job) -> Job:
    """The job once it has ended, waiting up to COMPAT_WAIT_S in all: the foreign APIs'
    synchronous calls have no way to say "still running". A job still running then is
    504 JOB_STILL_RUNNING naming it (it goes on; GET /api/v1/jobs/<id> finds it)."""
    if not job.finished:
        job = services.wait_for(job, timeout=settings.COMPAT_WAIT_S)
    if not job.finished:
        raise ApiError(
            504,
            "JOB_STILL_RUNNING",
            f"Job {job.pk} is still running after {settings.COMPAT_WAIT_S} s; "
            f"follow it at /api/v1/jobs/{job.pk}",
        )
    return job


def job_error(job: Job) -> ApiError:
    """A failed or cancelled job's error, with the status and code it failed with."""
    if job.status == Job.Status.CANCELLED:
        return ApiError(409, "JOB_CANCELLED", "The job was cancelled")
    return ApiError(
        job.error_status or 422, job.error_code or "JOB_FAILED", job.error_message or "Failed"
    )


def result_bytes(job: Job) -> bytes:
    """The finished job's result file, or its error raised. Results are capped by the
    pixel limit and the upload limit's scale, so reading one whole is bounded."""
    if job.status != Job.Status.COMPLETED:
        raise job_error(job)
    path = storage.result_path(job)
    if path is None:
        raise ApiError(410, "RESULT_GONE", "The result has expired or was removed")
    return path.read_bytes()
