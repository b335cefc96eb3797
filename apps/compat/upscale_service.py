"""The small asynchronous upscale service's API (seed 001), under /api/v1: submit, poll,
download once, cancel. Its `GET /models?scale=` and `GET /health` are our own
/api/v1/models and /api/v1/health, which answer its shapes.

- POST upscale (multipart `image`, `scale` 2|3|4 = 4, `model_name` = realesrgan-x4plus or
  any upscale model of the catalog, `format` png|jpg|webp = the original's, `tile_size`
  0 = automatic or 32..1024) queues one `upscale` job: 202 {success, job_id, status_url}.
- GET status/<job_id>: `queued` (with queue_position), `processing` (progress 0..100),
  `completed` (download_url, duration_seconds, input_size, output_size, file_size_bytes)
  or `failed` (error). A cancelled job reads `failed` with `cancelled: true`: clients
  poll until "completed" or "failed", and would wait forever on any other word.
- GET download/<job_id>: the result as application/octet-stream; as the seed says, the
  file is deleted once it has been sent whole (read to its end and the response closed),
  so a second download is 410 RESULT_GONE; an interrupted one leaves it. Before the job
  ends: 409 JOB_NOT_FINISHED.
- POST cancel/<job_id>: a queued job is cancelled at once, a running one at its next tile.

Another user's job, an unknown and a malformed id are all 404 (admins see every job).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.compat.common import job_error, submit_tool
from apps.compat.error_responses import error_responses
from apps.compat.upscale_service_common import (
    DEFAULT_MODEL,
    SCALES,
    UPSCALE_TOOL,
    field_choice,
    field_int,
    result_size,
    upscale_model,
)
from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.core.streaming import stream_file
from apps.core.uploads import first_upload
from apps.jobs import lookup, storage
from apps.jobs.eta import queue_position
from apps.jobs.models import Job

TAG = "Upscale service"
FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
NEEDS_JOB = error_responses(
    (401, "No or a wrong credential"), (404, "NOT_FOUND: no such job of yours (or a malformed id)")
)
SUBMIT_ERRORS = error_responses(
    (400, "A bad form value (named), NO_FILE, UNSUPPORTED_FORMAT, INVALID_MODEL_ID"),
    (401, "No or a wrong credential"),
    (404, "MODEL_NOT_FOUND: model_name is no model of this server"),
)
DOWNLOAD_ERRORS = {
    **NEEDS_JOB,
    **error_responses(
        (409, "JOB_NOT_FINISHED, or JOB_CANCELLED"),
        (410, "RESULT_GONE: already downloaded whole, or expired"),
        (503, "The job failed (its status and code), e.g. MODEL_NOT_INSTALLED"),
    ),
}
CANCEL_ERRORS = {**NEEDS_JOB, **error_responses((409, "JOB_FINISHED: it already ended"))}

UPSCALE_FORM = {
    "multipart/form-data": inline_serializer(
        "UpscaleServiceRequest",
        {
            "image": serializers.FileField(),
            "scale": serializers.ChoiceField(choices=SCALES, required=False, default=4),
            "model_name": serializers.CharField(required=False, default=DEFAULT_MODEL),
            "format": serializers.ChoiceField(choices=["png", "jpg", "webp"], required=False),
            "tile_size": serializers.IntegerField(required=False, default=0),
        },
    )
}


def upscale_settings(data: Any) -> dict[str, Any]:
    """The upscale tool's settings from the service's form fields (400 naming the field)."""
    scale = field_int(data, "scale", 4, choices=SCALES)
    model = upscale_model(data.get("model_name") or DEFAULT_MODEL, "model_name")
    fmt = field_choice(data, "format", None, FORMATS)
    tile = field_int(data, "tile_size", 0, minimum=0, maximum=1024)
    if 0 < tile < 32:
        raise ApiError(400, "VALIDATION_ERROR", "'tile_size' must be 0 (automatic) or 32..1024")
    found = {"scale": scale, "model": model.id, "tileSize": tile}
    return {**found, "format": FORMATS[fmt]} if fmt else found


class UpscaleView(APIView):
    """POST: queue an upscale of the uploaded image."""

    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG], operation_id="upscale_service_submit", request=UPSCALE_FORM,
        responses={202: dict, **SUBMIT_ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        upload = first_upload(request, ("image",))
        tool_settings = upscale_settings(request.data)
        job = submit_tool(request.user, UPSCALE_TOOL, tool_settings, [upload], asynchronous=True)
        status_url = f"/api/v1/status/{job.pk}"
        body = {"success": True, "job_id": str(job.pk), "status_url": status_url}
        return Response(body, status=202, headers={"Location": status_url})


def input_size(job: Job) -> dict[str, int] | None:
    """The upscale job's input as displayed: its result is exactly `scale` times it."""
    info = job.result_info or {}
    width, height, scale = info.get("width"), info.get("height"), info.get("scale")
    if job.tool_id != UPSCALE_TOOL:
        return None
    if not (isinstance(width, int) and isinstance(height, int) and isinstance(scale, int)):
        return None
    return {"width": width // scale, "height": height // scale}


def status_json(job: Job) -> dict[str, Any]:
    """The seed's fields for each state of the job."""
    body: dict[str, Any] = {"job_id": str(job.pk), "status": job.status}
    if job.status == Job.Status.QUEUED:
        return {**body, "progress": 0, "queue_position": queue_position(job)}
    if job.status == Job.Status.PROCESSING:
        return {**body, "progress": int(job.percent)}
    if job.status == Job.Status.COMPLETED:
        return {
            **body,
            "progress": 100,
            "download_url": f"/api/v1/download/{job.pk}",
            "duration_seconds": round(job.duration_s or 0.0, 3),
            "input_size": input_size(job),
            "output_size": result_size(job),
            "file_size_bytes": job.result_size,
            "model": (job.result_info or {}).get("model") or job.model or None,
        }
    error = job_error(job)
    cancelled = job.status == Job.Status.CANCELLED
    return {
        **body,
        "status": "failed",
        "error": error.message,
        "error_code": error.code,
        "cancelled": cancelled,
    }


class StatusView(APIView):
    """GET: where the job stands, in the seed's fields."""

    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG], operation_id="upscale_service_status", responses={200: dict, **NEEDS_JOB}
    )
    def get(self, request: Request, job_id: str) -> Response:
        return Response(status_json(lookup.job_or_404(request.user, job_id)))


class _DeletedOnceRead(io.FileIO):
    """The result file, deleted when it has been read to its end and then closed (the
    response closes it after the last chunk): a client that breaks off keeps it."""

    def __init__(self, path: Path, job: Job) -> None:
        super().__init__(path, "rb")
        self.job = job
        self.ended = False

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if not chunk and size != 0:
            self.ended = True
        return chunk or b""

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        if self.ended:
            storage.discard_result(self.job)


class DownloadView(APIView):
    """GET: the result, once."""

    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG],
        operation_id="upscale_service_download",
        responses={200: bytes, **DOWNLOAD_ERRORS},
    )
    def get(self, request: Request, job_id: str) -> Any:
        job = lookup.job_or_404(request.user, job_id)
        if not job.finished:
            raise ApiError(409, "JOB_NOT_FINISHED", f"The job is {job.status}; try again later")
        if job.status != Job.Status.COMPLETED:
            raise job_error(job)
        found = storage.result_path(job)
        if found is None:
            raise ApiError(410, "RESULT_GONE", "The result was already downloaded (or has expired)")
        response = stream_file(
            request,
            _DeletedOnceRead(found, job),
            content_type="application/octet-stream",
            as_attachment=True,
            filename=job.result_name or found.name,
        )
        response["X-Job-Id"] = str(job.pk)
        return response


class CancelView(APIView):
    """POST: cancel a queued or running job (409 JOB_FINISHED once it has ended)."""

    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG],
        operation_id="upscale_service_cancel",
        request=None,
        responses={200: dict, **CANCEL_ERRORS},
    )
    def post(self, request: Request, job_id: str) -> Response:
        state = lookup.cancel(lookup.job_or_404(request.user, job_id))
        return Response({"success": True, "job_id": job_id, "status": state})


urlpatterns = [
    path("upscale", UpscaleView.as_view()),
    path("status/<str:job_id>", StatusView.as_view()),
    path("download/<str:job_id>", DownloadView.as_view()),
    path("cancel/<str:job_id>", CancelView.as_view()),
]
