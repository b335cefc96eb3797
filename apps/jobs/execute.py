"""Running a job: the django-q2 task entry point, also called inline for fast tools.

A job is claimed with its attempt number, so a task delivered twice (a broker retry
after the maintenance task already requeued it) runs once. While it runs, a heartbeat
thread marks it alive; progress and cancellation go through the Job row, which is what
SSE streams and what the cancel endpoint writes.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from apps.core.errors import ApiError
from apps.jobs import storage
from apps.jobs.models import Job
from tools import imaging, registry, runner
from tools.base import Cancelled, Context, Output, OutputKind, Source, ToolError

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.5


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
        )


class Reporter:
    """Progress and cancellation for one job, through its row, at most twice a second."""

    def __init__(self, job_id: Any) -> None:
        self.job_id = job_id
        self.last_write = 0.0
        self.last_check = 0.0
        self.cancelled = False

    def progress(self, percent: float, message: str = "", **fields: Any) -> None:
        now = time.monotonic()
        if now - self.last_write < PROGRESS_INTERVAL_S and percent < 100 and not fields:
            return
        self.last_write = now
        update = {"percent": round(max(0.0, min(percent, 100.0)), 1), "message": message[:300]}
        Job.objects.filter(pk=self.job_id).update(**update, **fields, heartbeat_at=timezone.now())

    def is_cancelled(self) -> bool:
        now = time.monotonic()
        if not self.cancelled and now - self.last_check >= PROGRESS_INTERVAL_S:
            self.last_check = now
            self.cancelled = Job.objects.filter(pk=self.job_id, cancel_requested=True).exists()
        return self.cancelled

    def context(
        self, scratch: Path, progress: Callable[[float, str], None] | None = None
    ) -> Context:
        return Context(
            scratch_dir=scratch,
            progress=progress or self.progress,
            is_cancelled=self.is_cancelled,
            max_megapixels=settings.MAX_MEGAPIXELS,
        )


class QuietReporter(Reporter):
    """For jobs run inside their own request: nobody can watch or cancel them yet (the
    caller learns the job id with the result), so progress costs no database writes."""

    def progress(self, percent: float, message: str = "", **fields: Any) -> None:
        if fields:  # item counts are part of the record, not just progress
            Job.objects.filter(pk=self.job_id).update(**fields)

    def is_cancelled(self) -> bool:
        return False


class Heartbeat(threading.Thread):
    """Writes heartbeat_at every JOB_HEARTBEAT_S while the job runs."""

    def __init__(self, job_id: Any) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.job_id = job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_S):
                try:
                    Job.objects.filter(pk=self.job_id).update(heartbeat_at=timezone.now())
                except DatabaseError:  # a busy database: the next beat will do
                    log.debug("heartbeat of job %s skipped", self.job_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self.stopped.set()


def claim(job_id: str, attempt: int) -> Job | None:
    """Move a queued job to processing for this attempt; None if someone else has it."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED, attempts=attempt - 1).update(
        status=Job.Status.PROCESSING, attempts=attempt, started_at=now, heartbeat_at=now
    )
    return Job.objects.get(pk=job_id) if claimed else None


def stored_sources(job: Job) -> list[Source]:
    """The job's input files, in order, sniffed again (they may have waited on disk)."""
    folder = storage.inputs_dir(job)
    return [imaging.open_source(folder / str(i), name) for i, name in enumerate(job.input_names)]


def download_name(stem_from: str, suffix_of: str, tag: str) -> str:
    stem = Path(stem_from).stem or "image"
    return f"{stem}_{tag}{Path(suffix_of).suffix}"


def perform_tool(job: Job, reporter: Reporter) -> Outcome:
    tool = registry.get(job.tool_id)
    if tool is None:
        raise ToolError("TOOL_NOT_FOUND", f"Unknown tool: {job.tool_id}", 404)
    sources = stored_sources(job)
    ctx = reporter.context(storage.work_dir(job))
    output = runner.execute(tool, sources, runner.validate_settings(tool, job.settings), ctx)
    first = sources[0].name if sources else tool.id
    return Outcome.from_output(output, download_name(first, output.filename, tool.id))


def perform(job: Job, reporter: Reporter) -> Outcome:
    """Dispatch on the kind of job."""
    if job.kind == Job.Kind.TOOL:
        return perform_tool(job, reporter)
    if job.kind == Job.Kind.BATCH:
        from apps.jobs.batch import run_batch

        return run_batch(job, reporter)
    from apps.pipelines.engine import run_pipeline_job

    return run_pipeline_job(job, reporter)


def finish(job: Job, status: str, **fields: Any) -> bool:
    """Record the end of this attempt; False if the job is no longer ours (it was
    requeued or failed as lost meanwhile), so a late worker cannot overwrite it."""
    fields.update(status=status, finished_at=timezone.now())
    if status == Job.Status.COMPLETED:
        fields.update(percent=100)
    mine = Job.objects.filter(pk=job.pk, status=Job.Status.PROCESSING, attempts=job.attempts)
    if not mine.update(**fields):
        return False
    for name, value in fields.items():  # keep the caller's copy in step with the row
        setattr(job, name, value)
    return True


def still_mine(job: Job) -> bool:
    return Job.objects.filter(
        pk=job.pk, status=Job.Status.PROCESSING, attempts=job.attempts
    ).exists()


def save_to_library(job: Job, outcome: Outcome) -> None:
    """A single-input job named a library file (fileId): its image becomes a new version."""
    if job.kind not in (Job.Kind.TOOL, Job.Kind.PIPELINE) or outcome.path is None:
        return
    from apps.library.links import save_result

    version = save_result(job, 0, outcome.path, outcome.media_type, outcome.engine, outcome.model)
    if version is not None:
        outcome.info.update(savedFileId=str(version.file_id), savedVersion=version.number)


def complete(job: Job, outcome: Outcome) -> bool:
    if not still_mine(job):
        return False
    save_to_library(job, outcome)
    fields: dict[str, Any] = {
        "result_name": outcome.name,
        "result_media_type": outcome.media_type,
        "result_json": outcome.data,
        "result_info": outcome.info,
        "engine": outcome.engine[:200],
        "model": outcome.model[:200],
        "message": "done",
    }
    if outcome.path is not None:
        storage.keep_result(job, outcome.path)
        fields.update(result_file=job.result_file, result_size=job.result_size)
    return finish(job, Job.Status.COMPLETED, **fields)


def fail(job: Job, code: str, message: str, status: int) -> bool:
    return finish(
        job, Job.Status.FAILED, error_code=code, error_message=message, error_status=status
    )


def storage_error(exc: OSError) -> tuple[str, str, int]:
    """A file-system failure as (code, message, HTTP status)."""
    if exc.errno == errno.ENOSPC:
        return "DISK_FULL", "The server's disk is full: the result could not be written", 507
    if isinstance(exc, FileNotFoundError):
        return "INPUT_GONE", "The job's files were removed before it could finish", 410
    return "STORAGE_ERROR", f"Storage error: {exc.strerror or exc}", 500


def conclude(job: Job, reporter: Reporter) -> bool:
    """Run the job and record how it ended; True if this attempt recorded the end."""
    try:
        return complete(job, perform(job, reporter))
    except Cancelled:
        return finish(job, Job.Status.CANCELLED, message="cancelled")
    except ToolError as exc:
        return fail(job, exc.code, exc.message, exc.status)
    except ApiError as exc:  # from the library: quota exceeded, file deleted meanwhile
        return fail(job, exc.code, exc.message, exc.status_code)
    except OSError as exc:
        log.exception("job %s: storage error", job.pk)
        return fail(job, *storage_error(exc))
    except Exception:
        log.exception("job %s failed unexpectedly", job.pk)
        return fail(job, "INTERNAL_ERROR", "The job failed unexpectedly", 500)


def run_job(job_id: str, attempt: int = 1) -> None:
    """Claim and run one job to its end. Never raises: the outcome is in the row."""
    job = claim(job_id, attempt)
    if job is not None:
        run_claimed(job, Reporter(job.pk))


def run_inline(job: Job) -> Job:
    """Run a queued job in this thread (a fast tool inside its request); the job object
    comes back updated, with no second read of the row."""
    now = timezone.now()
    attempt = job.attempts + 1
    claimed = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED, attempts=job.attempts)
    if claimed.update(
        status=Job.Status.PROCESSING, attempts=attempt, started_at=now, heartbeat_at=now
    ):
        job.status, job.attempts, job.started_at = Job.Status.PROCESSING, attempt, now
        run_claimed(job, QuietReporter(job.pk))
    return job


def run_claimed(job: Job, reporter: Reporter) -> None:
    heartbeat = Heartbeat(job.pk)
    heartbeat.start()
    try:
        ended = conclude(job, reporter)
    finally:
        heartbeat.stop()
    if ended:  # a retry of a job we lost still needs its inputs
        storage.discard_working_files(job)
