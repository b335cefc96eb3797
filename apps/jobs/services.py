"""Creating jobs, sending them to a worker (or running them inline), waiting for them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django_q.tasks import async_task

from apps.core.uploads import save_upload
from apps.jobs import storage
from apps.jobs.execute import run_inline
from apps.jobs.models import Job
from tools import imaging
from tools.base import Tool, ToolError

TASK = "apps.jobs.execute.run_job"


def owner_of(user: Any) -> Any:
    return user if user is not None and user.is_authenticated else None


def queue_for(tool: Tool | None) -> str:
    return "gpu" if tool is not None and tool.device == "gpu" and settings.GPU_QUEUE else "cpu"


def create_job(
    kind: str,
    user: Any,
    uploads: Sequence[UploadedFile],
    *,
    tool: Tool | None = None,
    **fields: Any,
) -> Job:
    """A queued Job with its uploads stored and sniffed; a bad file fails the request, not later.

    For batches a file that is not an image is kept: it fails alone, inside the batch.
    """
    job = Job.objects.create(
        kind=kind,
        owner=owner_of(user),
        tool_id=tool.id if tool else fields.pop("tool_id", ""),
        queue=queue_for(tool),
        input_names=[imaging.display_name(u.name or f"file-{i}") for i, u in enumerate(uploads)],
        input_size=sum(u.size or 0 for u in uploads),
        items_total=len(uploads) if kind in (Job.Kind.BATCH, Job.Kind.PIPELINE_BATCH) else 0,
        **fields,
    )
    try:
        for index, upload in enumerate(uploads):
            path = save_upload(upload, storage.inputs_dir(job), str(index))
            if kind in (Job.Kind.TOOL, Job.Kind.PIPELINE):
                imaging.open_source(path, job.input_names[index])
    except ToolError as exc:
        storage.discard_all(job)
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            error_code=exc.code,
            error_message=exc.message,
            error_status=exc.status,
        )
        raise
    return job


def enqueue(job: Job) -> None:
    """Hand the job to a worker. Call it outside a transaction: the row must be visible."""
    attempt = job.attempts + 1
    cluster = job.queue if job.queue != "cpu" else None
    async_task(TASK, str(job.pk), attempt, cluster=cluster, task_name=f"job-{job.pk}-{attempt}")


def run_now(job: Job) -> Job:
    """Run a (fast) job in this thread; returns it finished."""
    return run_inline(job)


def wait_for(job: Job, timeout: float | None = None) -> Job:
    """Poll the row until the job ends (or `timeout` passes); returns the fresh row."""
    deadline = time.monotonic() + (timeout or settings.SYNC_WAIT_S)
    delay = 0.02
    while True:
        job.refresh_from_db()
        if job.finished or time.monotonic() >= deadline:
            return job
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
