"""A1111's /progress and /interrupt over our jobs: the caller's own jobs only.

A1111 has one global state (one job at a time for everyone); here each caller sees and
interrupts their own queued and running jobs, admins included (an admin's interrupt never
cancels another user's work).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.errors import ApiError
from apps.core.ownership import owner_of
from apps.jobs import eta, lookup
from apps.jobs.models import Job

ACTIVE = (Job.Status.QUEUED, Job.Status.PROCESSING)
# A1111's State.dict() when nothing runs (modules/shared_state.py).
IDLE_STATE: dict[str, Any] = {
    "skipped": False,
    "interrupted": False,
    "stopping_generation": False,
    "job": "",
    "job_count": 0,
    "job_timestamp": "0",
    "job_no": 0,
    "sampling_step": 0,
    "sampling_steps": 0,
}


def own_active_jobs(user: Any) -> QuerySet[Job]:
    """The caller's queued and running jobs, oldest first (owner=None: anonymous work
    when AUTH_ENABLED=false)."""
    return Job.objects.filter(owner=owner_of(user), status__in=ACTIVE).order_by("created_at")


def progress_of(user: Any) -> dict[str, Any]:
    """ProgressResponse for the caller's latest running job (else latest queued): percent
    as 0..1 and as sampling_step of 100 steps, the job count, the ETA, the stage."""
    active = list(own_active_jobs(user))
    if not active:
        body = {"progress": 0.0, "eta_relative": 0.0, "state": dict(IDLE_STATE)}
        return {**body, "current_image": None, "textinfo": None}
    running = [j for j in active if j.status == Job.Status.PROCESSING]
    current = (running or active)[-1]
    seconds = eta.eta_seconds(current, eta.queue_position(current))
    state = {
        **IDLE_STATE,
        "interrupted": current.cancel_requested,
        "job": current.tool_id,
        "job_count": len(active),
        "job_timestamp": current.created_at.strftime("%Y%m%d%H%M%S"),
        "job_no": active.index(current),
        "sampling_step": int(current.percent),
        "sampling_steps": 100,
        "job_id": str(current.pk),
        "status": current.status,
    }
    return {
        "progress": round(min(max(current.percent / 100, 0.0), 1.0), 4),
        "eta_relative": float(seconds or 0.0),
        "state": state,
        "current_image": None,
        "textinfo": current.stage or current.message or current.status,
    }


def interrupt(user: Any) -> int:
    """Cancel the caller's queued jobs at once and ask their running ones to stop; how many."""
    cancelled = 0
    for job in own_active_jobs(user):
        try:
            lookup.cancel(job)
        except ApiError:  # it ended meanwhile (409 JOB_FINISHED): nothing to interrupt
            continue
        cancelled += 1
    return cancelled
