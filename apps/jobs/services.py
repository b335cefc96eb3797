"""Creating jobs, sending them to a worker (or running them inline), waiting for them."""

from __future__ import annotations

import shutil
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
from apps.library.models import FileVersion, StoredFile
from apps.library.services import latest_version, local_copy
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
    from_library: Sequence[StoredFile] = (),
    save_to: Sequence[StoredFile | None] = (),
    **fields: Any,
) -> Job:
    """A queued Job with its inputs stored and sniffed; a bad file fails the request, not later.

    Inputs are the uploads, then the latest versions of the `from_library` files. `save_to`
    names, per input, the library file whose next version the result becomes. For batches
    a file that is not an image is kept: it fails alone, inside the batch.
    """
    names = [imaging.display_name(u.name or f"file-{i}") for i, u in enumerate(uploads)]
    versions = [latest_version(f) for f in from_library]
    count = len(uploads) + len(versions)
    job = Job.objects.create(
        kind=kind,
        owner=owner_of(user),
        tool_id=tool.id if tool else fields.pop("tool_id", ""),
        queue=queue_for(tool),
        input_names=names + [f.name for f in from_library],
        input_size=sum(u.size or 0 for u in uploads) + sum(v.size for v in versions),
        items_total=count if kind in (Job.Kind.BATCH, Job.Kind.PIPELINE_BATCH) else 0,
        library_files=[str(f.pk) if f else None for f in save_to] or [],
        **fields,
    )
    try:
        store_inputs(job, uploads, versions)
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


def store_inputs(
    job: Job, uploads: Sequence[UploadedFile], versions: Sequence[FileVersion]
) -> None:
    """Inputs 0..n-1 in the job's folder: the uploads, then copies of library versions."""
    folder = storage.inputs_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    for index, upload in enumerate(uploads):
        save_upload(upload, folder, str(index))
    for index, version in enumerate(versions, start=len(uploads)):
        with local_copy(version) as path:
            shutil.copyfile(path, folder / str(index))
    if job.kind in (Job.Kind.TOOL, Job.Kind.PIPELINE):
        for index, name in enumerate(job.input_names):
            imaging.open_source(folder / str(index), name)


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
