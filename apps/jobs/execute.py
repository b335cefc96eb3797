"""Running a job: the django-q2 task entry point, also called inline for fast jobs.

A job is claimed with its attempt number, so a task delivered twice (a broker retry
after the maintenance task already requeued it) runs once. While it runs, a heartbeat
thread marks it alive. The work itself is the engine's (`tools.chain.run_steps`), once
over all inputs or per file (apps.jobs.batch); this module stores how it ended.

A database error that ends a run (a dropped connection, a failover) is no fault of the
job: the run is given back (queued again, its attempt not counted) up to INFRA_RETRIES
times, a little later each time, before it fails with DATABASE_UNAVAILABLE.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F
from django.utils import timezone

from apps.core import memory
from apps.core.disk import disk_full_error, low_on_space
from apps.core.errors import ApiError, database_busy, is_disk_full
from apps.jobs import storage
from apps.jobs.batch import zip_each
from apps.jobs.context import QuietReporter, Reporter, context_for
from apps.jobs.models import Job
from apps.jobs.queue import enqueue
from apps.jobs.results import Outcome, download_name, save_version
from apps.jobs.signals import job_finished
from apps.jobs.steps import job_steps
from tools import chain, imaging
from tools.base import Cancelled, Source, ToolError

log = logging.getLogger(__name__)

INFRA_RETRIES = 3  # runs given back after database errors before the job fails
GIVE_BACK_TRIES_S = (0.5, 2.0, 5.0)  # waits between tries to write the give-back


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
        """Stop, and wait for a beat in flight: no write (nor open connection) of this
        thread outlives the job's run (under SQLite a late write would lock the table)."""
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=30)


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


def perform(job: Job, reporter: Reporter, steps: Sequence[chain.Step] | None = None) -> Outcome:
    """The job's steps (validated again unless given: an inline job's were, in its request)
    over all its inputs or over each file."""
    steps = list(steps) if steps is not None else job_steps(job)
    pipeline = job.is_pipeline
    ctx = context_for(job, reporter)
    if job.each_file:
        process = partial(_steps_on_one, steps, pipeline)
        return zip_each(job, reporter, ctx, process, job.tool_id)
    sources = stored_sources(job)
    output = chain.run_steps(steps, sources, ctx, pipeline=pipeline)
    first = sources[0].name if sources else job.tool_id
    return Outcome.from_output(output, download_name(first, output.filename, job.tool_id))


def _steps_on_one(steps: list[chain.Step], pipeline: bool, source: Source, ctx: Any) -> Any:
    return chain.run_steps(steps, [source], ctx, pipeline=pipeline)


def finish(job: Job, status: str, **fields: Any) -> bool:
    """Record the end of this attempt; False if the job is no longer ours (it was
    requeued or failed as lost meanwhile), so a late worker cannot overwrite it.
    An inline job not written yet is written now, whole, in one statement."""
    fields.update(status=status, finished_at=timezone.now())
    if status == Job.Status.COMPLETED:
        fields.update(percent=100)
    unwritten = job._state.adding
    if not unwritten:
        mine = Job.objects.filter(pk=job.pk, status=Job.Status.PROCESSING, attempts=job.attempts)
        if not mine.update(**fields):
            return False
    for name, value in fields.items():  # keep the caller's copy in step with the row
        setattr(job, name, value)
    if unwritten:
        job.save(force_insert=True)
    job_finished.send_robust(sender=Job, job=job)
    return True


def still_mine(job: Job) -> bool:
    return Job.objects.filter(
        pk=job.pk, status=Job.Status.PROCESSING, attempts=job.attempts
    ).exists()


def complete(job: Job, outcome: Outcome) -> bool:
    if job._state.adding:  # an inline job, not written yet: nobody else can have it,
        if any(job.library_files):  # but the library version it saves links to its row
            job.save(force_insert=True)
    elif not still_mine(job):
        return False
    if not job.each_file:  # a batch saved each file's version as it finished
        version = save_version(job, 0, outcome)
        if version is not None:
            outcome.info.update(savedFileId=str(version.file_id), savedVersion=version.number)
    fields: dict[str, Any] = {
        "result_name": outcome.name,
        "result_media_type": outcome.media_type,
        "result_json": outcome.data,
        "result_info": outcome.info,
        "engine": outcome.engine[:200],
        "model": outcome.model[:200],
        "model_sha256": outcome.model_sha256[:500],
        "device": outcome.device[:100],
        "message": "done",
    }
    if outcome.path is not None:
        storage.keep_result(job, outcome.path)
        fields.update(result_file=job.result_file, result_size=job.result_size)
    return finish(job, Job.Status.COMPLETED, **fields)


def fail(job: Job, code: str, message: str, status: int) -> bool:
    """Record the failure. On a full disk even that write may fail: the job is then left
    to the upkeep task, which fails it DISK_FULL rather than retrying it."""
    try:
        return finish(
            job, Job.Status.FAILED, error_code=code, error_message=message, error_status=status
        )
    except DatabaseError as exc:
        if not is_disk_full(exc):
            raise
        log.error("job %s: could not record its failure (%s): the disk is full", job.pk, code)
        return False


DISK_FULL = ("DISK_FULL", "The server's disk is full: the result could not be written", 507)


def storage_error(exc: OSError) -> tuple[str, str, int]:
    """A file-system failure as (code, message, HTTP status)."""
    if exc.errno == errno.ENOSPC:
        return DISK_FULL
    if isinstance(exc, FileNotFoundError):
        return "INPUT_GONE", "The job's files were removed before it could finish", 410
    return "STORAGE_ERROR", f"Storage error: {exc.strerror or exc}", 500


def error_of(job: Job, exc: Exception) -> tuple[str, str, int]:
    """How a failed job is recorded: (code, message, HTTP status)."""
    if is_disk_full(exc):
        # Free what this job wrote first, so that recording the failure has room.
        storage.discard_working_files(job)
        storage.discard_result(job)
        log.error("job %s: the disk is full", job.pk)
        return DISK_FULL
    if isinstance(exc, ToolError):
        return exc.code, exc.message, exc.status
    if isinstance(exc, ApiError):  # from the library: quota exceeded, file deleted meanwhile
        return exc.code, exc.message, exc.status_code
    if isinstance(exc, OSError):
        log.exception("job %s: storage error", job.pk)
        return storage_error(exc)
    log.exception("job %s failed unexpectedly", job.pk)
    return "INTERNAL_ERROR", "The job failed unexpectedly", 500


def conclude(job: Job, reporter: Reporter, steps: Sequence[chain.Step] | None = None) -> bool:
    """Run the job and record how it ended; True if this attempt recorded the end."""
    try:
        if low_on_space():  # it would only fill what is left, and fail
            raise disk_full_error()
        return complete(job, perform(job, reporter, steps))
    except Cancelled:
        return finish(job, Job.Status.CANCELLED, message="cancelled")
    except DatabaseError as exc:
        unwritten = job._state.adding  # inline: no row to give back; the request fails
        if not is_disk_full(exc) and not unwritten and job.infra_retries < INFRA_RETRIES:
            give_back(job, exc)
            return False  # not ended: its inputs stay for the next run
        if not is_disk_full(exc):
            return fail(job, *DATABASE_UNAVAILABLE)
        return fail(job, *error_of(job, exc))
    except Exception as exc:
        return fail(job, *error_of(job, exc))


DATABASE_UNAVAILABLE = (
    "DATABASE_UNAVAILABLE",
    "The database kept failing while this job ran; try again later",
    503,
)


def give_back(job: Job, exc: DatabaseError) -> None:
    """Queue the job again with its attempt given back, once the database answers; if it
    does not within a few seconds, the upkeep task finds the job lost and requeues it."""
    log.warning("job %s: database error (%s): giving the run back", job.pk, exc)
    for wait_s in GIVE_BACK_TRIES_S:
        time.sleep(wait_s)
        if not connection.in_atomic_block:  # (tests run inside a transaction)
            connection.close()  # a broken connection is not reused
        try:
            mine = Job.objects.filter(
                pk=job.pk, status=Job.Status.PROCESSING, attempts=job.attempts
            )
            if mine.update(
                status=Job.Status.QUEUED,
                attempts=job.attempts - 1,
                infra_retries=F("infra_retries") + 1,
                percent=0,
                message="requeued after a database error",
            ):
                job.refresh_from_db()
                enqueue(job)
            return
        except DatabaseError:
            continue


def run_job(job_id: str, attempt: int = 1) -> None:
    """Claim and run one job to its end. Never raises: the outcome is in the row."""
    job = claim(job_id, attempt)
    if job is not None:
        run_claimed(job, Reporter(job.pk))
        memory.trim()  # a batch's buffers, freed, go back to the system


def run_inline(job: Job, steps: Sequence[chain.Step]) -> Job:
    """Run a new job, its row not written yet, in this thread (a fast job inside its
    request). The row is written once, when the job ends: nobody can watch or cancel it
    before then, and no heartbeat is needed, as no worker can lose it (issue 14: the
    writes and the heartbeat thread cost more than the work of a small resize)."""
    now = timezone.now()
    job.status, job.attempts, job.started_at, job.heartbeat_at = (
        Job.Status.PROCESSING, 1, now, now
    )  # fmt: skip
    try:
        conclude(job, QuietReporter(job.pk), steps)
    except DatabaseError as exc:  # not even the failure could be written
        if is_disk_full(exc) or database_busy(exc):
            raise  # answered 507 / 503 DATABASE_BUSY by the exception handler
        raise ApiError(503, *DATABASE_UNAVAILABLE[:2]) from exc
    finally:
        imaging.release_cached_files()
        storage.discard_working_files_soon(job)
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
    imaging.release_cached_files()  # deleted files take no space once closed
