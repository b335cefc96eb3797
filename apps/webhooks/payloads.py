"""What a delivery says: `{"id", "event", "createdAt", "data"}`, data holding ids and links.

Links are absolute when PUBLIC_URL is set (the server as receivers reach it), paths
otherwise. The payload holds no image bytes and no secret: a receiver fetches what it
needs with its own credentials.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from apps.jobs.models import Job
from apps.library.models import StoredFile


def link(path: str) -> str:
    return f"{settings.PUBLIC_URL}{path}"


def envelope(delivery_id: UUID, event: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(delivery_id),
        "event": event,
        "createdAt": timezone.now().isoformat(),
        "data": data,
    }


def _owner(user: Any) -> dict[str, str] | None:
    return {"id": str(user.pk), "username": user.username} if user is not None else None


def job_data(job: Job) -> dict[str, Any]:
    """A finished job: ids, outcome, and where to read its status and result."""
    base = f"/api/v1/jobs/{job.pk}"
    data: dict[str, Any] = {
        "jobId": str(job.pk),
        "toolId": job.tool_id,
        "kind": str(job.kind),
        "status": job.status,
        "owner": _owner(job.owner),
        "statusUrl": link(base),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "durationS": job.duration_s,
    }
    if job.pipeline_id:
        data["pipelineId"] = str(job.pipeline_id)
    if job.status == Job.Status.COMPLETED:
        data["downloadUrl"] = link(f"{base}/download")
        data["resultName"] = job.result_name
        data["resultSize"] = job.result_size
        saved = (job.result_info or {}).get("savedFileId")
        if saved:
            data["fileId"] = saved
            data["version"] = job.result_info.get("savedVersion")
    else:
        data["error"] = {
            "code": job.error_code or "JOB_FAILED",
            "message": job.error_message or "The job failed",
        }
    return data


def file_data(stored: StoredFile, file_id: Any) -> dict[str, Any]:
    """A library file: ids, its facts, and (unless deleted) where to read it."""
    data: dict[str, Any] = {
        "fileId": str(file_id),
        "name": stored.name,
        "version": stored.latest_version,
        "size": stored.size,
        "width": stored.width,
        "height": stored.height,
        "format": stored.format,
        "owner": _owner(stored.owner),
    }
    if stored.pk is not None:
        base = f"/api/v1/files/{stored.pk}"
        data["fileUrl"] = link(base)
        data["downloadUrl"] = link(f"{base}/download")
    return data


def ping_data(webhook_id: UUID) -> dict[str, Any]:
    return {"webhookId": str(webhook_id), "message": "A test delivery from Pixelsmith"}
