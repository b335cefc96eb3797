"""What the MCP tools answer about jobs and library files: JSON with ids and download
URLs, and the image itself (MCP ImageContent) when it is small enough to show inline.

Links are the REST API's (`/api/v1/files/<id>/download`, `/api/v1/jobs/<id>/download`),
absolute when the caller's base URL is known (HTTP), paths otherwise (stdio).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apps.jobs import storage
from apps.jobs.eta import queue_position
from apps.jobs.models import Job
from apps.library.models import FileVersion
from apps.library.services import local_copy

# An image up to this size comes back inline too. The SDK's client refuses SSE events over
# 1 MiB, and an answer carries the image as base64 (4/3 larger) beside its JSON twice
# (text and structured content): 512 KiB keeps it well inside.
INLINE_MAX_BYTES = 512 * 1024
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


@dataclass
class Answer:
    """A tool's answer: JSON, and optionally an image to show (bytes, media type)."""

    data: dict[str, Any]
    image: bytes | None = None
    media_type: str = ""


def job_answer(job: Job, base_url: str = "", inline: bool = True) -> Answer:
    """A job's state; once completed its result: the library file it became (if any),
    JSON results, the download URL, and the image inline when small."""
    base = f"{base_url}/api/v1/jobs/{job.pk}"
    data: dict[str, Any] = {
        "jobId": str(job.pk),
        "status": job.status,
        "toolId": job.tool_id,
        "kind": job.kind,
        "progress": job.percent,
        "message": job.message,
        "statusUrl": base,
    }
    if job.status == Job.Status.QUEUED:
        data["queuePosition"] = queue_position(job)
    if job.error_code:
        data["error"] = {"code": job.error_code, "message": job.error_message}
    if job.status != Job.Status.COMPLETED:
        return Answer(data)
    data["result"] = _result(job, base)
    saved = (job.result_info or {}).get("savedFileId")
    if saved:
        version = (job.result_info or {}).get("savedVersion")
        data["file"] = file_link(str(saved), version, base_url)
    path = storage.result_path(job) if job.result_file else None
    if inline and path is not None:
        return Answer(data, *_inline(path, job.result_media_type))
    return Answer(data)


def _result(job: Job, base: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": job.result_name,
        "mediaType": job.result_media_type,
        "size": job.result_size,
        "info": job.result_info or {},
        "engine": job.engine or None,
        "model": job.model or None,
        "device": job.device or None,
    }
    if job.result_json is not None:
        result["json"] = job.result_json
    if job.result_file:
        result["downloadUrl"] = f"{base}/download"
    return result


def _inline(path: Path, media_type: str) -> tuple[bytes | None, str]:
    if media_type not in INLINE_TYPES or path.stat().st_size > INLINE_MAX_BYTES:
        return None, ""
    return path.read_bytes(), media_type


def file_link(file_id: str, version: Any, base_url: str = "") -> dict[str, Any]:
    url = f"{base_url}/api/v1/files/{file_id}/download"
    return {
        "id": file_id,
        "version": version,
        "downloadUrl": f"{url}?version={version}" if version else url,
        "latestUrl": url,
    }


def version_image(version: FileVersion) -> tuple[bytes | None, str]:
    """The version's bytes when small enough to show inline (from local disk or S3)."""
    if version.media_type not in INLINE_TYPES or version.size > INLINE_MAX_BYTES:
        return None, ""
    with local_copy(version) as path:
        return path.read_bytes(), version.media_type
