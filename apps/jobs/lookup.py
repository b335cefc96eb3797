"""Finding, cancelling and summing up jobs: shared by /api/v1/jobs, the compatibility
APIs and the MCP server (views never import each other)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.errors import ApiError
from apps.jobs import storage
from apps.jobs.models import Job

CANCELLING = "cancelling"  # what cancel() answers for a running job


def visible_jobs(user: Any) -> QuerySet[Job]:
    return Job.objects.visible_to(user)


def job_or_404(user: Any, job_id: Any) -> Job:
    """The user's job (any job for admins); 404 for another user's, an unknown or a
    malformed id alike, so ids cannot be probed."""
    try:
        pk = job_id if isinstance(job_id, uuid.UUID) else uuid.UUID(str(job_id))
    except ValueError:
        pk = None
    job = visible_jobs(user).filter(pk=pk).first() if pk else None
    if job is None:
        raise ApiError(404, "NOT_FOUND", "Job not found")
    return job


def cancel(job: Job) -> str:
    """Cancel a queued job at once ("cancelled") or ask a running one to stop at its next
    file or tile boundary ("cancelling"); 409 JOB_FINISHED for one that already ended."""
    now = timezone.now()
    # Queued: the worker's claim will then find nothing to do, and its uploads go now, as
    # they do when a job ends on a worker.
    if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
        status=Job.Status.CANCELLED, cancel_requested=True, finished_at=now, message="cancelled"
    ):
        storage.discard_working_files(job)
        return Job.Status.CANCELLED
    if Job.objects.filter(pk=job.pk, status=Job.Status.PROCESSING).update(cancel_requested=True):
        return CANCELLING
    raise ApiError(409, "JOB_FINISHED", f"The job already ended ({job.status})")


def queue_summary(user: Any) -> dict[str, Any]:
    """What is waiting and running: the whole queue's length, the user's own pending jobs
    with their positions, and a wait estimate from the last 100 completed jobs."""
    queued = list(Job.objects.filter(status=Job.Status.QUEUED).order_by("created_at"))
    processing = Job.objects.filter(status=Job.Status.PROCESSING).count()
    mine = {j.pk for j in visible_jobs(user).filter(status=Job.Status.QUEUED)}
    pending = [
        {"jobId": str(j.pk), "position": position, "toolId": j.tool_id, "kind": j.kind}
        for position, j in enumerate(queued, start=1)
        if j.pk in mine
    ]
    recent = Job.objects.filter(status=Job.Status.COMPLETED, started_at__isnull=False)
    spans = recent.order_by("-finished_at").values_list("started_at", "finished_at")[:100]
    seconds = [(end - start).total_seconds() for start, end in spans if start and end]
    average_s = round(sum(seconds) / len(seconds), 3) if seconds else None
    length = len(queued)
    wait = None
    if average_s is not None:
        wait = round((length // settings.WORKER_CONCURRENCY + 1) * average_s, 1)
    return {
        "queueLength": length,
        "processing": processing,
        "workers": settings.WORKER_CONCURRENCY,
        "pending": pending,
        "averageDurationS": average_s,
        "estimatedWaitS": wait if length else 0,
    }
