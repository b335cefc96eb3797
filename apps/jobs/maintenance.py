"""Scheduled upkeep: recover jobs whose worker died, expire old results, tidy auth tables.

`recover_lost_jobs` runs every minute on the cluster (schedules in migration 0002), so
a job is never left "processing": a job whose heartbeat stopped is requeued once more
(JOB_MAX_ATTEMPTS in all) or failed with WORKER_LOST; one past JOB_TIMEOUT_S fails with
JOB_TIMEOUT.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from apps.accounts import limiter
from apps.accounts.sessions import purge_expired
from apps.core.disk import low_on_space
from apps.jobs import staging, storage
from apps.jobs.models import Job
from apps.jobs.queue import enqueue
from apps.jobs.signals import job_finished

log = logging.getLogger(__name__)


def recover_lost_jobs() -> dict[str, int]:
    """Requeue or fail processing jobs with a stale heartbeat; fail those over the timeout."""
    now = timezone.now()
    counts = {"requeued": 0, "lost": 0, "timedOut": 0, "diskFull": 0}
    timed_out = Job.objects.filter(
        status=Job.Status.PROCESSING,
        started_at__lt=now - timedelta(seconds=settings.JOB_TIMEOUT_S),
    )
    ending = list(timed_out.values_list("pk", flat=True))  # to announce them (webhooks)
    counts["timedOut"] = timed_out.filter(pk__in=ending).update(
        status=Job.Status.FAILED,
        error_code="JOB_TIMEOUT",
        error_status=504,
        finished_at=now,
        error_message=f"The job ran past JOB_TIMEOUT_S ({settings.JOB_TIMEOUT_S} s)",
    )
    announce(Job.objects.filter(pk__in=ending, status=Job.Status.FAILED, error_code="JOB_TIMEOUT"))
    stale = Job.objects.filter(
        status=Job.Status.PROCESSING,
        heartbeat_at__lt=now - timedelta(seconds=settings.JOB_STALE_S),
    )
    disk_full = low_on_space()
    for job in stale:
        if disk_full:  # a retry would fill the disk again: fail it, and free its space
            counts["diskFull"] += fail_disk_full(job, now)
        elif job.attempts < settings.JOB_MAX_ATTEMPTS and storage.inputs_dir(job).exists():
            # Back to queued with the same attempt count: the new task claims attempt+1.
            if Job.objects.filter(pk=job.pk, status=Job.Status.PROCESSING).update(
                status=Job.Status.QUEUED, percent=0, message="requeued: its worker was lost"
            ):
                job.refresh_from_db()
                enqueue(job)
                counts["requeued"] += 1
        else:
            lost = Job.objects.filter(pk=job.pk, status=Job.Status.PROCESSING).update(
                status=Job.Status.FAILED,
                error_code="WORKER_LOST",
                error_status=500,
                finished_at=now,
                error_message="The worker running this job stopped",
            )
            counts["lost"] += lost
            announce(Job.objects.filter(pk=job.pk) if lost else [])
    counts["resent"] = resend_forgotten(now) if not counts["requeued"] else 0
    if any(counts.values()):
        log.warning("recovered jobs: %s", counts)
    return counts


def fail_disk_full(job: Job, now: datetime) -> int:
    """Fail a lost job DISK_FULL and remove its files (its partial output included)."""
    failed = Job.objects.filter(pk=job.pk, status=Job.Status.PROCESSING).update(
        status=Job.Status.FAILED,
        error_code="DISK_FULL",
        error_status=507,
        finished_at=now,
        error_message="The server's disk is full: the job could not finish",
    )
    if failed:
        storage.discard_working_files(job)
        storage.discard_result(job)
        announce(Job.objects.filter(pk=job.pk))
    return failed


def announce(jobs: Iterable[Job]) -> None:
    """Send job_finished for jobs this upkeep ended (as apps.jobs.execute.finish does)."""
    for job in jobs:
        job_finished.send_robust(sender=Job, job=job)


def resend_forgotten(now: datetime) -> int:
    """Queued cpu jobs that an idle worker has not picked up lost their broker message
    (e.g. Redis lost its data): send them again. Duplicates are harmless, as a job is
    claimed by its attempt number. This task runs on the cpu cluster, so it only sees
    its own queue, and only while a worker is alive to take the messages."""
    if Job.objects.filter(status=Job.Status.PROCESSING, queue="cpu").exists():
        return 0
    forgotten = Job.objects.filter(
        status=Job.Status.QUEUED,
        queue="cpu",
        created_at__lt=now - timedelta(seconds=settings.JOB_STALE_S),
    )
    count = 0
    for job in forgotten:
        enqueue(job)
        count += 1
    return count


def expire_results() -> int:
    """Delete finished jobs' files (and rows) older than JOB_RESULT_TTL_HOURS."""
    cutoff = timezone.now() - timedelta(hours=settings.JOB_RESULT_TTL_HOURS)
    old = Job.objects.filter(finished_at__lt=cutoff)
    count = 0
    for job in old.iterator():
        storage.discard_all(job)
        count += 1
    old.delete()
    remove_orphan_folders()
    return count


def remove_orphan_folders() -> None:
    """Job folders without a row (a crash between the two writes) and stale upload temp files."""
    cutoff = timezone.now().timestamp() - 3600  # younger ones may belong to a job being created
    root = settings.DATA_DIR / "jobs"
    if root.exists():
        known = {str(pk) for pk in Job.objects.values_list("pk", flat=True)}
        for folder in root.iterdir():
            if folder.name not in known and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
    for leftover in settings.TMP_DIR.glob("*"):
        if leftover.is_file() and leftover.stat().st_mtime < cutoff:
            leftover.unlink(missing_ok=True)


def housekeeping() -> None:
    """The hourly task: results, sessions, login records, library orphans."""
    from apps.library.services import find_orphans  # imports the image engine: only here

    expire_results()
    purge_expired()
    SessionStore.clear_expired()  # the browser sessions' rows (their tokens expired above)
    staging.expire()
    limiter.purge_old()
    find_orphans(clean=True)
