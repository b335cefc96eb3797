"""Where a job stands in its queue and how long it should take, from the durations of
the same tool's recent jobs (the job detail and the progress stream both report these)."""

from __future__ import annotations

from django.conf import settings

from apps.jobs.models import Job


def average_duration(job: Job) -> float | None:
    """Mean seconds of the last 50 completed jobs of the same kind and tool."""
    recent = Job.objects.filter(
        status=Job.Status.COMPLETED,
        each_file=job.each_file,
        tool_id=job.tool_id,
        started_at__isnull=False,
    ).order_by("-finished_at")[:50]
    durations = [j.duration_s for j in recent if j.duration_s is not None]
    return sum(durations) / len(durations) if durations else None


def queue_position(job: Job) -> int | None:
    if job.status != Job.Status.QUEUED:
        return None
    ahead = Job.objects.filter(
        status=Job.Status.QUEUED, queue=job.queue, created_at__lt=job.created_at
    ).count()
    return ahead + 1


def eta_seconds(job: Job, position: int | None) -> float | None:
    average = average_duration(job)
    if average is None or job.finished:
        return None
    if job.status == Job.Status.PROCESSING:
        return round(average * (1 - job.percent / 100), 1)
    waves = ((position or 1) - 1) // settings.WORKER_CONCURRENCY + 1
    return round(waves * average, 1)
