"""The one way in: what a caller asks for becomes a Job, runs inline or on a queue, and
is waited for.

The tools API, pipelines, and (later) the web UI and the compatibility adapters all call
`submit`; none of them creates, places or runs a job by itself. What runs is `Work`:
validated steps over files. Where it runs is `apps.jobs.placement`'s one rule.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection

from apps.core.disk import require_free_space
from apps.core.ownership import owner_of
from apps.core.uploads import save_upload
from apps.jobs import storage
from apps.jobs.execute import run_inline
from apps.jobs.models import PIPELINE, Job
from apps.jobs.placement import place, queue_for
from apps.jobs.queue import enqueue
from apps.library.models import FileVersion, StoredFile
from apps.library.services import latest_version, local_copy
from tools import imaging
from tools.base import Tool, ToolError
from tools.chain import Step

__all__ = ["Work", "create_job", "enqueue", "submit", "wait_for"]


@dataclass(frozen=True)
class Work:
    """Validated steps over files: uploads first, then the latest versions of
    `from_library` files. `save_to` names, per input, the library file whose next version
    that input's result becomes. `each_file` runs the steps on each input alone (a batch)."""

    steps: Sequence[Step]
    uploads: Sequence[UploadedFile] = ()
    from_library: Sequence[StoredFile] = ()
    save_to: Sequence[StoredFile | None] = ()
    each_file: bool = False
    pipeline: bool = False  # a pipeline names its steps in progress, errors and credits
    pipeline_id: UUID | None = None  # the saved pipeline, if it is one

    @property
    def tools(self) -> list[Tool]:
        return [s.tool for s in self.steps]

    @property
    def label(self) -> str:
        return PIPELINE if self.pipeline else self.steps[0].tool.id


def submit(user: Any, work: Work, *, asynchronous: bool = False) -> Job:
    """Create the job and start it: queued at once when `asynchronous`; otherwise run in
    this request when placement allows, else queued and waited for (up to SYNC_WAIT_S).
    The job comes back finished, or still running when the wait ran out."""
    if asynchronous or not place(work.tools, each_file=work.each_file).inline:
        job = _create(user, work)[0]
        enqueue(job)
        return job if asynchronous else wait_for(job)
    # Inline, unless an input turns out to be a format only a worker may decode. An inline
    # job's row is written once, when it ends (apps.jobs.execute.run_inline).
    job, formats = _create(user, work, write=False)
    if place(work.tools, each_file=work.each_file, input_formats=formats).inline:
        return run_inline(job, work.steps)
    job.save(force_insert=True)
    enqueue(job)
    return wait_for(job)


def create_job(user: Any, work: Work) -> Job:
    """A queued Job with its inputs stored; see `submit` for starting it."""
    return _create(user, work)[0]


def _create(user: Any, work: Work, *, write: bool = True) -> tuple[Job, list[str]]:
    """The queued job and its inputs' sniffed formats (none for batches, whose files are
    checked one by one as they run: a bad file there fails alone, not the request).
    With `write` false the row is not written yet (but a failure to take the inputs is)."""
    require_free_space()
    names = [imaging.display_name(u.name or f"file-{i}") for i, u in enumerate(work.uploads)]
    versions = [latest_version(f) for f in work.from_library]
    job = Job(
        owner=owner_of(user),
        tool_id=work.label,
        steps=[s.as_json() for s in work.steps],
        each_file=work.each_file,
        pipeline_id=work.pipeline_id,
        queue=queue_for(work.tools),
        input_names=names + [f.name for f in work.from_library],
        input_size=sum(u.size or 0 for u in work.uploads) + sum(v.size for v in versions),
        items_total=len(names) + len(versions) if work.each_file else 0,
        library_files=[str(f.pk) if f else None for f in work.save_to],
    )
    if write:
        job.save(force_insert=True)
    try:
        return job, store_inputs(job, work.uploads, versions)
    except ToolError as exc:
        storage.discard_all(job)
        job.status = Job.Status.FAILED
        job.error_code, job.error_message, job.error_status = exc.code, exc.message, exc.status
        job.save()
        raise


def store_inputs(
    job: Job, uploads: Sequence[UploadedFile], versions: Sequence[FileVersion]
) -> list[str]:
    """Inputs 0..n-1 in the job's folder: the uploads, then copies of library versions.

    Unless the job runs per file, each is sniffed now (a bad file fails the request);
    returns their formats.
    """
    folder = storage.inputs_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    for index, upload in enumerate(uploads):
        save_upload(upload, folder, str(index))
    for index, version in enumerate(versions, start=len(uploads)):
        with local_copy(version) as path:
            shutil.copyfile(path, folder / str(index))
    if job.each_file:
        return []
    return [
        imaging.open_source(folder / str(index), name).format
        for index, name in enumerate(job.input_names)
    ]


def wait_for(job: Job, timeout: float | None = None) -> Job:
    """Poll the row until the job ends (or `timeout` passes); returns the fresh row.

    Between polls the connection goes back to the pool: a request may wait minutes, and
    holding a connection all that time would starve the other requests of its process.
    """
    deadline = time.monotonic() + (timeout or settings.SYNC_WAIT_S)
    delay = 0.02
    while True:
        job.refresh_from_db()
        if job.finished or time.monotonic() >= deadline:
            return job
        if not connection.in_atomic_block:  # (tests run inside a transaction)
            connection.close()
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
