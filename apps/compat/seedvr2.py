"""SeedVR2's API (seed 003), image side, at the paths its clients use: /api/process,
/api/status/<id>, /api/download/<id>, /api/queue/{status,position/<id>,history}; the GPU,
model and /health routes are in seedvr2_system.py.

An image sent to /api/process becomes one two-step job through the submission service:
the `upscale` tool at the smallest native scale of `dit_model` whose result reaches the
`resolution` short edge (the largest when none does), then an exact `resize` of the
short edge to `resolution` (the intermediate is PNG, the result keeps the original's
format). `dit_model` names one of our upscale models (default realesrgan-x4plus):
SeedVR2's own *.safetensors / *.gguf names are 404 with the names there are, because
those models do not exist here. `batch_size`, `color_correction`, `seed`, `vae_tiling`
and `vae_quality` are checked as SeedVR2 checks them and have no effect: our upscalers
are deterministic single-image networks. A video goes to the `video-upscale` tool (one
job, frames streamed, audio and subtitles kept, resumable): `resolution` is its target
short edge (rounded to even, as 4:2:0 video needs) and `dit_model` its model (left out:
the video tool's own default, realesr-animevideov3, made for video).

Task states are SeedVR2's: queued, processing, completed, failed (a cancelled job reads
failed with `error: "cancelled"`: its clients wait for "completed" or "failed"). Task
ids are our job ids: another user's, unknown and malformed ones are all 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.compat import seedvr2_system
from apps.compat.common import job_error, submit_tool
from apps.compat.error_responses import error_responses
from apps.compat.upscale_service_common import (
    DEFAULT_MODEL,
    UPSCALE_TOOL,
    field_choice,
    field_int,
    iso,
    result_size,
    upscale_model,
)
from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.core.uploads import first_upload, upload_to_path
from apps.jobs import lookup, responses, services
from apps.jobs.eta import eta_seconds, queue_position
from apps.jobs.models import Job
from apps.jobs.steps import validate_steps
from tools import imaging
from tools.ai.catalog import ModelSpec
from tools.upscale import check_output_size
from tools.video.formats import VIDEO_FORMATS, sniff_video

TAG = "SeedVR2"
VIDEO_TOOL = "video-upscale"
NEEDS_TASK = error_responses(
    (401, "No or a wrong credential"), (404, "NOT_FOUND: no such task of yours (or a malformed id)")
)
PROCESS_ERRORS = error_responses(
    (400, "A bad form value (named), NO_FILE, UNSUPPORTED_FORMAT, OUTPUT_TOO_LARGE"),
    (401, "No or a wrong credential"),
    (404, "MODEL_NOT_FOUND: dit_model is none of our upscale models (they are named)"),
    (422, "NOT_A_VIDEO / CORRUPT_VIDEO / UNSUPPORTED_CODEC for a video file"),
)
DOWNLOAD_ERRORS = {
    **NEEDS_TASK,
    **error_responses((409, "JOB_NOT_FINISHED, or JOB_CANCELLED"), (410, "RESULT_GONE")),
}
HISTORY_ERRORS = error_responses((400, "limit is not 1..100"), (401, "No or a wrong credential"))
SEEDVR2_OPTIONS = {
    "color_correction": ("lab", "wavelet", "hsv", "none"),
    "vae_tiling": ("auto", "on", "off"),
    "vae_quality": ("low", "medium", "high"),
}
PROCESS_FORM = {
    "multipart/form-data": inline_serializer(
        "SeedVR2ProcessRequest",
        {
            "file": serializers.FileField(),
            "resolution": serializers.IntegerField(required=False, default=1080),
            "batch_size": serializers.IntegerField(required=False, default=5),
            "dit_model": serializers.CharField(required=False, default=DEFAULT_MODEL),
            "color_correction": serializers.CharField(required=False, default="lab"),
            "seed": serializers.IntegerField(required=False, default=42),
            "vae_tiling": serializers.CharField(required=False, default="auto"),
            "vae_quality": serializers.CharField(required=False, default="high"),
        },
    )
}


def is_video(upload: UploadedFile) -> bool:
    """A video container the video tool takes, by its first bytes (as every upload is
    sniffed: tools.imaging and tools.video.formats), never by its name or declared type."""
    head = upload.read(4096)
    upload.seek(0)
    return imaging.sniff_bytes(head) is None and sniff_video(head) in VIDEO_FORMATS


def checked_options(data: Any) -> tuple[ModelSpec, int]:
    """The model and target short edge; SeedVR2's other fields checked, then unused."""
    resolution = field_int(data, "resolution", 1080, minimum=16, maximum=16384)
    field_int(data, "batch_size", 5, minimum=1, maximum=1024)
    field_int(data, "seed", 42, minimum=-(2**63), maximum=2**63 - 1)
    for name, choices in SEEDVR2_OPTIONS.items():
        field_choice(data, name, None, choices)
    raw = data.get("dit_model")
    spec = upscale_model(DEFAULT_MODEL if raw in (None, "", "default") else raw, "dit_model")
    return spec, resolution


def pipeline_for(upload: UploadedFile, spec: ModelSpec, resolution: int) -> list[dict[str, Any]]:
    """The upscale + resize steps for this image (400 for no image, or a too large one)."""
    with upload_to_path(upload) as local:
        source = imaging.open_source(local, upload.name or "image")
        width, height = imaging.oriented_size(imaging.open_header(source))
    short = min(width, height)
    scale = next((s for s in sorted(spec.scales) if short * s >= resolution), max(spec.scales))
    check_output_size(width, height, scale, settings.MAX_MEGAPIXELS, source.name)
    final_pixels = resolution * round(max(width, height) * resolution / short)
    if final_pixels > settings.MAX_MEGAPIXELS * 1_000_000:
        raise ApiError(
            400,
            "OUTPUT_TOO_LARGE",
            f"{source.name} at a {resolution} px short edge would be {final_pixels / 1e6:.0f} MP, "
            f"over the {settings.MAX_MEGAPIXELS} MP limit: ask for a smaller resolution",
        )
    edge = "width" if width <= height else "height"
    final = imaging.output_format(None, source.format)
    return [
        {"toolId": UPSCALE_TOOL, "settings": {"model": spec.id, "scale": scale, "format": "png"}},
        {"toolId": "resize", "settings": {edge: resolution, "format": final}},
    ]


class ProcessView(APIView):
    """POST: queue an image upscale to `resolution` (short edge)."""

    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG],
        operation_id="seedvr2_process",
        request=PROCESS_FORM,
        responses={202: dict, **PROCESS_ERRORS},
    )
    def post(self, request: Request) -> Response:
        upload = first_upload(request, ("file",))
        data: Any = request.data
        spec, resolution = checked_options(data)
        if is_video(upload):
            video: dict[str, Any] = {"targetShortEdge": resolution + resolution % 2}
            if data.get("dit_model") not in (None, "", "default"):
                video["model"] = spec.id
            job = submit_tool(request.user, VIDEO_TOOL, video, [upload], asynchronous=True)
        else:
            steps = validate_steps(pipeline_for(upload, spec, resolution))
            work = services.Work(steps=steps, uploads=[upload], pipeline=True)
            job = services.submit(request.user, work, asynchronous=True)
        job.refresh_from_db()
        position = queue_position(job)
        body = {
            "status": task_state(job),
            "task_id": str(job.pk),
            "queue_position": position or 0,
            "estimated_wait_seconds": eta_seconds(job, position) or 0,
        }
        return Response(body, status=202)


def task_state(job: Job) -> str:
    return "failed" if job.status == Job.Status.CANCELLED else str(job.status)


def task_params(job: Job) -> dict[str, Any]:
    """What the job was asked to do, in SeedVR2's words where they apply."""
    steps = {s.get("toolId"): s.get("settings") or {} for s in job.steps if isinstance(s, dict)}
    params: dict[str, Any] = {"tool": job.tool_id}
    if UPSCALE_TOOL in steps:
        params.update(
            dit_model=steps[UPSCALE_TOOL].get("model"), scale=steps[UPSCALE_TOOL].get("scale")
        )
    resize = steps.get("resize", {})
    if "width" in resize or "height" in resize:
        params["resolution"] = resize.get("width", resize.get("height"))
    if VIDEO_TOOL in steps:
        video = steps[VIDEO_TOOL]
        params.update(dit_model=video.get("model"), resolution=video.get("targetShortEdge"))
    return params


def finished_fields(job: Job) -> dict[str, Any]:
    """The fields of a task that has ended (the result is a URL, never a server path)."""
    found = result_size(job) if job.status == Job.Status.COMPLETED else None
    info = job.result_info or {}
    if found is None and "width" in info and "height" in info:  # a video's frame size
        found = {"width": info["width"], "height": info["height"]}
    fields: dict[str, Any] = {
        "completed_at": iso(job.finished_at),
        "process_time": round(job.duration_s, 1) if job.duration_s is not None else None,
        "output_filename": job.result_name or None,
        "output_resolution": f"{found['width']}x{found['height']}" if found else None,
    }
    if job.status == Job.Status.COMPLETED:
        fields["output_path"] = f"/api/download/{job.pk}"
    else:
        error = job_error(job)
        cancelled = job.status == Job.Status.CANCELLED
        fields.update(error="cancelled" if cancelled else error.message, error_code=error.code)
    return fields


def task_json(job: Job) -> dict[str, Any]:
    position = queue_position(job)
    body = {
        "id": str(job.pk),
        "status": task_state(job),
        "progress": 100 if job.status == Job.Status.COMPLETED else int(job.percent),
        "queue_position": position or 0,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "params": task_params(job),
    }
    return {**body, **finished_fields(job)} if job.finished else body


class StatusView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(tags=[TAG], operation_id="seedvr2_status", responses={200: dict, **NEEDS_TASK})
    def get(self, request: Request, task_id: str) -> Response:
        return Response(task_json(lookup.job_or_404(request.user, task_id)))


class DownloadView(APIView):
    """GET: the result file (409 JOB_NOT_FINISHED before the task ends)."""

    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG], operation_id="seedvr2_download", responses={200: bytes, **DOWNLOAD_ERRORS}
    )
    def get(self, request: Request, task_id: str) -> Any:
        job = lookup.job_or_404(request.user, task_id)
        if not job.finished:
            raise ApiError(409, "JOB_NOT_FINISHED", f"The task is {job.status}; try again later")
        return responses.result_of(request, job)


def running_task(running: Any) -> dict[str, Any] | None:
    """The first of the caller's running tasks, as SeedVR2's queue status shows it."""
    job = running.order_by("started_at").first()
    if job is None:
        return None
    model = task_params(job).get("dit_model") or job.model or None
    return {"task_id": str(job.pk), "progress": int(job.percent), "model": model}


class QueueStatusView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(tags=[TAG], operation_id="seedvr2_queue_status", responses={200: dict})
    def get(self, request: Request) -> Response:
        summary = lookup.queue_summary(request.user)
        mine = lookup.visible_jobs(request.user)
        processing = running_task(mine.filter(status=Job.Status.PROCESSING))
        return Response(
            {
                "queue_length": summary["queueLength"],
                "processing": processing,
                "processing_progress": processing["progress"] if processing else 0,
                "pending_tasks": [
                    {"task_id": p["jobId"], "position": p["position"]} for p in summary["pending"]
                ],
                "total_completed": mine.filter(status=Job.Status.COMPLETED).count(),
                "total_failed": mine.filter(
                    status__in=[Job.Status.FAILED, Job.Status.CANCELLED]
                ).count(),
                "avg_process_time": summary["averageDurationS"] or 0,
                "estimated_total_wait": summary["estimatedWaitS"] or 0,
            }
        )


class QueuePositionView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG], operation_id="seedvr2_queue_position", responses={200: dict, **NEEDS_TASK}
    )
    def get(self, request: Request, task_id: str) -> Response:
        job = lookup.job_or_404(request.user, task_id)
        position = queue_position(job)
        wait = eta_seconds(job, position) if not job.finished else None
        return Response(
            {
                "task_id": str(job.pk),
                "status": task_state(job),
                "position": position or 0,
                "estimated_wait": wait or 0,
            }
        )


class QueueHistoryView(APIView):
    """GET ?limit=1..100 (20): the caller's ended tasks, newest first."""

    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG], operation_id="seedvr2_queue_history",
        parameters=[OpenApiParameter("limit", int)], responses={200: dict, **HISTORY_ERRORS},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        limit = field_int(request.query_params, "limit", 20, minimum=1, maximum=100)
        ended = lookup.visible_jobs(request.user).filter(finished_at__isnull=False)
        history = [
            {
                "id": str(job.pk),
                "status": task_state(job),
                "created_at": iso(job.created_at),
                **finished_fields(job),
            }
            for job in ended.order_by("-finished_at")[:limit]
        ]
        return Response({"history": history})


urlpatterns = [
    path("api/process", ProcessView.as_view()),
    path("api/status/<str:task_id>", StatusView.as_view()),
    path("api/download/<str:task_id>", DownloadView.as_view()),
    path("api/queue/status", QueueStatusView.as_view()),
    path("api/queue/position/<str:task_id>", QueuePositionView.as_view()),
    path("api/queue/history", QueueHistoryView.as_view()),
    *seedvr2_system.urlpatterns,
]
