"""Handing a job to a worker (django-q2). Kept light: the scheduled upkeep imports it."""

from __future__ import annotations

from django_q.tasks import async_task

from apps.jobs.models import Job

# The task's dotted path is stored with each queued message: keep it stable.
TASK = "apps.jobs.execute.run_job"


def enqueue(job: Job) -> None:
    """Send the job to its queue. Call it outside a transaction: the row must be visible."""
    attempt = job.attempts + 1
    cluster = job.queue if job.queue != "cpu" else None
    async_task(TASK, str(job.pk), attempt, cluster=cluster, task_name=f"job-{job.pk}-{attempt}")
