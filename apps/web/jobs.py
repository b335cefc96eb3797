"""The jobs page: the user's jobs (an admin's: everyone's) with status, progress, result
download and cancel, and the queue's state; and one job's table row, which the page's
script fetches again when the job changes.

Rows come from the ORM with the API's scoping (`Job.objects.visible_to`); cancelling is
done by the page's script through POST /api/v1/jobs/<id>/cancel.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.jobs.models import Job
from apps.web.access import page, web_user
from apps.web.library import page_number
from tools import registry

PAGE_SIZE = 25
STATUS_LABELS: dict[str, Any] = {
    "queued": _("Queued"),
    "processing": _("Processing"),
    "completed": _("Done"),
    "failed": _("Failed"),
    "cancelled": _("Cancelled"),
}
BADGES = {"queued": "", "processing": "processing", "completed": "ok", "failed": "error"}
KINDS: dict[str, Any] = {
    "batch": _("Batch"),
    "pipeline": _("Pipeline"),
    "pipeline-batch": _("Pipeline batch"),
}


def visible_jobs(request: HttpRequest) -> QuerySet[Job]:
    return Job.objects.visible_to(web_user(request)).select_related("owner")


def human_duration(seconds: float | None) -> str:
    """ "0.4 s", "12 s", "3 min 5 s", "2 h 10 min"; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 0.1:
        return gettext("< 0.1 s")
    if seconds < 10:
        return gettext("%(s).1f s") % {"s": seconds}
    whole = round(seconds)
    if whole < 60:
        return gettext("%(s)d s") % {"s": whole}
    if whole < 3600:
        return gettext("%(m)d min %(s)d s") % {"m": whole // 60, "s": whole % 60}
    return gettext("%(h)d h %(m)d min") % {"h": whole // 3600, "m": whole % 3600 // 60}


def tool_name(job: Job) -> str:
    if job.is_pipeline:
        return gettext("Pipeline")
    tool = registry.get(job.tool_id)
    return tool.name if tool is not None else job.tool_id


def job_row(job: Job) -> dict[str, Any]:
    """What a row shows: labels, progress, result link, whether it can be cancelled."""
    names = list(job.input_names or [])
    inputs = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
    completed = job.status == Job.Status.COMPLETED
    return {
        "job": job,
        "id": str(job.pk),
        "tool": tool_name(job),
        "tool_link": "" if job.is_pipeline or not job.tool_id else f"/tools/{job.tool_id}",
        "kind": KINDS.get(job.kind, ""),
        "inputs": inputs,
        "status_label": STATUS_LABELS.get(job.status, job.status),
        "badge": BADGES.get(job.status, ""),
        "percent": round(job.percent),
        "active": not job.finished,
        "cancelling": job.cancel_requested and not job.finished,
        "duration": human_duration(job.duration_s),
        "download_url": f"/api/v1/jobs/{job.pk}/download" if completed else "",
        "items": job.items_total if job.items_total > 1 else 0,
    }


def queue_summary() -> dict[str, Any]:
    """The same numbers as GET /api/v1/queue/status, for the first paint."""
    return {
        "queueLength": Job.objects.filter(status=Job.Status.QUEUED).count(),
        "processing": Job.objects.filter(status=Job.Status.PROCESSING).count(),
        "workers": settings.WORKER_CONCURRENCY,
    }


def jobs_strings() -> dict[str, str]:
    """Texts the jobs page's script shows ({n}-style placeholders), translated."""
    return {
        "cancelling": gettext("Cancelling…"),
        "cancelRequested": gettext("Cancel requested"),
        "seconds": gettext("{s} s"),
        "none": gettext("none"),
    }


@page
def jobs(request: HttpRequest) -> HttpResponse:
    """One page of the visible jobs, newest first, optionally of one status."""
    status = request.GET.get("status", "")
    rows = visible_jobs(request)
    if status in Job.Status.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    paginator = Paginator(rows.order_by("-created_at", "-id"), PAGE_SIZE)
    current = paginator.get_page(page_number(request.GET.get("page")))
    base = f"/jobs?status={status}&" if status else "/jobs?"
    context = {
        "rows": [job_row(job) for job in current.object_list],
        "current": current,
        "total": paginator.count,
        "status": status,
        "tabs": [("", gettext("All")), *STATUS_LABELS.items()],
        "page_base": base,
        "queue": queue_summary(),
        "library_strings": jobs_strings(),
    }
    return render(request, "web/jobs.html", context)


@page
def job_row_page(request: HttpRequest, job_id: str) -> HttpResponse:
    """One job's row (in a table, so that it parses on its own), or 404."""
    try:
        pk = UUID(job_id)
    except ValueError:
        return render(request, "web/not_found.html", status=404)
    job = visible_jobs(request).filter(pk=pk).first()
    if job is None:
        return render(request, "web/not_found.html", status=404)
    return render(request, "web/partials/jobs_row_page.html", {"row": job_row(job)})
