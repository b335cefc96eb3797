"""The Jellyfin AI upscaler service's inference API (seed 000), under /api/v1/ai/.

Its plugin (Kuschel-code/JellyfinUpscalerPlugin) talks to `upscale-frame` and
`benchmark-frame`; the seed documents the rest. Each route is one synchronous tool job
through the submission service (waiting up to COMPAT_WAIT_S, then 504 naming the job):

- POST upscale-frame: the seed's JSON `{image: base64, model, scale}` -> `{image: base64,
  format, width, height, input_width, input_height, scale, model, provider, engine, ms}`;
  or, as the real plugin sends it, the raw JPEG/PNG bytes (`?model=&scale=`) -> the raw
  upscaled JPEG (quality 85, as the real service answers), with X-Model / X-Device /
  X-Engine headers. No model named: an upscale model a worker holds, else
  realesr-animevideov3 (made for video frames); no scale: the model's smallest native one.
- POST upscale-batch `{images: [base64...], model, scale}`: one job per frame, all queued
  first, answered in order; a frame that fails has `{error, code}` in its place (when all
  fail, the first failure is the answer).
- GET or POST benchmark-frame (`width`, `height`: the plugin's capture size, default
  480x270; or an `image`): one real frame upscale; `ms` / `avg_time_ms` is the job's
  processing time, `provider` the device that really ran it, `engine` the runtime.
- POST face-restore/detect `{image, sensitivity, full_range}`: the detect-faces tool's
  boxes, scores and keypoints (MediaPipe, not the seed's Haar cascade).
- POST face-restore/restore `{image, model: gfpgan|codeformer}` (enhance-faces) and
  face-restore/pipeline `{image, model, scale}` (upscale with faceEnhance): their face
  models are downloads; until one is installed, 503 MODEL_NOT_INSTALLED naming it.

Model ids follow the seed's rule (`^[a-zA-Z0-9_-]+(?:\\.[a-zA-Z0-9_-]+)*$`): `a..b`,
`.hidden`, `trail.`, `x/y` are 400 INVALID_MODEL_ID; an unknown id is 404; a catalog
model that does not upscale is 400. Credentials: the service's `X-Api-Token` header
carrying one of our API keys, or any of our usual ones.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.compat.authentication import WITH_API_TOKEN
from apps.compat.common import result_bytes, submit_tool, to_base64
from apps.compat.error_responses import error_responses
from apps.compat.jellyfin_frames import (
    Frame,
    Ran,
    frame_of,
    image_fields,
    json_object,
    model_and_scale,
    output_format,
    run,
    synthetic_frame,
)
from apps.compat.parsers import LargeJSONParser, RawBodyParser
from apps.compat.upscale_service_common import UPSCALE_TOOL, field_int
from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.core.uploads import upload_from_base64
from apps.jobs import lookup, services
from apps.jobs.models import Job
from apps.jobs.responses import with_job_headers
from apps.models.services import spec_or_error

TAG = "Jellyfin AI"
FRAME_BODY = {"application/json": dict, "application/octet-stream": bytes, "image/*": bytes}
JSON_BODY = {"application/json": dict}
FACE_MODELS = {"gfpgan": "gfpgan", "gfpgan-v1.4": "gfpgan", "codeformer": "codeformer"}
ERRORS = error_responses(
    (400, "A bad field (named), INVALID_BASE64, UNSUPPORTED_FORMAT, INVALID_MODEL_ID"),
    (401, "No or a wrong credential (X-Api-Token or Authorization)"),
    (404, "MODEL_NOT_FOUND: no such model here (the message names the ones there are)"),
    (503, "MODEL_NOT_INSTALLED: the model's weights are not installed (named)"),
    (504, "JOB_STILL_RUNNING after COMPAT_WAIT_S (the job is named)"),
)


class JellyfinView(APIView):
    """X-Api-Token (an API key) or our usual credentials; JSON, multipart or raw bodies."""

    authentication_classes = WITH_API_TOKEN
    permission_classes = [CanUseTools]
    parser_classes = [LargeJSONParser, MultiPartParser, RawBodyParser]


def image_answer(ran: Ran, frame: Frame, extra: dict[str, Any]) -> Any:
    """The raw image for a raw request, else the JSON with the image in base64."""
    if frame.raw:
        response = HttpResponse(ran.data, content_type=ran.job.result_media_type)
        response["X-Processing-Ms"] = str(ran.described()["ms"])
        return with_job_headers(response, ran.job)
    body = {"image": to_base64(ran.data or b""), **image_fields(ran), **extra}
    return Response({**body, **ran.described()})


class UpscaleFrameView(JellyfinView):
    """POST: one frame upscaled (JSON base64 or raw bytes in, the same kind out)."""

    @extend_schema(
        tags=[TAG], operation_id="jellyfin_upscale_frame", request=FRAME_BODY,
        parameters=[OpenApiParameter("model", str), OpenApiParameter("scale", int)],
        responses={200: dict, **ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Any:
        frame = frame_of(request)
        spec, scale = model_and_scale(frame.options)
        tool_settings = {
            "model": spec.id,
            "scale": scale,
            **output_format(frame.options, frame.raw),
        }
        ran = run(request.user, UPSCALE_TOOL, tool_settings, frame.upload)
        info = ran.job.result_info or {}
        sizes = {
            "input_width": int(info.get("width", 0)) // scale,
            "input_height": int(info.get("height", 0)) // scale,
        }
        return image_answer(ran, frame, {**sizes, "scale": scale, "model": spec.id})


class UpscaleBatchView(JellyfinView):
    """POST {images: [...], model, scale}: every frame upscaled, answered in order."""

    @extend_schema(
        tags=[TAG],
        operation_id="jellyfin_upscale_batch",
        request=JSON_BODY,
        responses={200: dict, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = json_object(request)
        uploads = batch_frames(body)
        spec, scale = model_and_scale(body)
        tool_settings = {"model": spec.id, "scale": scale, **output_format(body, False)}
        started = time.perf_counter()
        jobs = waited(submit_all(request.user, tool_settings, uploads))
        results = [frame_result(index, job) for index, job in enumerate(jobs)]
        failed = [r for r in results if "error" in r]
        if len(failed) == len(results):
            raise ApiError(failed[0]["status"], failed[0]["code"], failed[0]["error"])
        return Response(
            {
                "images": [r.pop("image", None) for r in results],
                "results": [{k: v for k, v in r.items() if k != "status"} for r in results],
                "count": len(results),
                "failed": len(failed),
                "model": spec.id,
                "scale": scale,
                "provider": ", ".join(sorted({j.device for j in jobs if j.device})) or None,
                "wall_ms": round((time.perf_counter() - started) * 1000, 1),
            }
        )


def batch_frames(body: dict[str, Any]) -> list[Any]:
    """The batch's frames (`images`, or `frames`) decoded: 400 before any job exists."""
    frames = body.get("images", body.get("frames"))
    if not isinstance(frames, list) or not frames:
        raise ApiError(400, "VALIDATION_ERROR", "'images' must be a non-empty list of base64")
    if len(frames) > settings.MAX_BATCH_SIZE:
        raise ApiError(400, "TOO_MANY_FILES", f"At most {settings.MAX_BATCH_SIZE} frames per batch")
    return [upload_from_base64(f, f"images[{i}]", f"frame-{i}") for i, f in enumerate(frames)]


def submit_all(user: Any, tool_settings: dict[str, Any], uploads: list[Any]) -> list[Job]:
    """One queued job per frame; if one cannot be queued (not an image), the ones already
    queued are cancelled and the error is the answer."""
    jobs: list[Job] = []
    try:
        for upload in uploads:
            jobs.append(submit_tool(user, UPSCALE_TOOL, tool_settings, [upload], asynchronous=True))
    except Exception:
        for job in jobs:
            job.refresh_from_db()
            if not job.finished:
                lookup.cancel(job)
        raise
    return jobs


def waited(jobs: list[Job]) -> list[Job]:
    """The jobs once all have ended, COMPAT_WAIT_S for the whole batch (then 504)."""
    deadline = time.monotonic() + settings.COMPAT_WAIT_S
    for job in jobs:
        services.wait_for(job, timeout=max(deadline - time.monotonic(), 0.05))
    running = [str(j.pk) for j in jobs if not j.finished]
    if running:
        raise ApiError(
            504,
            "JOB_STILL_RUNNING",
            f"{len(running)} frame(s) still running after {settings.COMPAT_WAIT_S} s: "
            + ", ".join(running[:10]),
        )
    return jobs


def frame_result(index: int, job: Job) -> dict[str, Any]:
    try:
        data = result_bytes(job)
    except ApiError as exc:
        return {"index": index, "error": exc.message, "code": exc.code, "status": exc.status_code}
    info = job.result_info or {}
    return {
        "index": index,
        "image": to_base64(data),
        "width": info.get("width"),
        "height": info.get("height"),
        "job_id": str(job.pk),
        "ms": round((job.duration_s or 0.0) * 1000, 1),
    }


class BenchmarkFrameView(JellyfinView):
    """GET ?width=&height= (the plugin's call) or POST: one real frame upscale, timed."""

    @extend_schema(
        tags=[TAG], operation_id="jellyfin_benchmark_frame_get",
        parameters=[
            OpenApiParameter("width", int), OpenApiParameter("height", int),
            OpenApiParameter("model", str), OpenApiParameter("scale", int),
        ],
        responses={200: dict, **ERRORS},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        return Response(benchmark(request.user, dict(request.query_params.items())))

    @extend_schema(
        tags=[TAG],
        operation_id="jellyfin_benchmark_frame",
        request=JSON_BODY,
        responses={200: dict, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        options = {**dict(request.query_params.items()), **json_object(request)}
        return Response(benchmark(request.user, options))


def benchmark(user: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Upscale one frame (the client's `image`, else noise of width x height, as the real
    service benchmarks) and report the time and what ran it."""
    if options.get("image"):
        upload = upload_from_base64(options["image"], "image", "frame")
    else:
        width = field_int(options, "width", 480, minimum=16, maximum=1920)
        height = field_int(options, "height", 270, minimum=16, maximum=1080)
        upload = synthetic_frame(width, height)
    spec, scale = model_and_scale(options)
    tool_settings = {"model": spec.id, "scale": scale, **output_format(options, True)}
    ran = run(user, UPSCALE_TOOL, tool_settings, upload)
    described = ran.described()
    info = ran.job.result_info or {}
    out_w, out_h = int(info.get("width", 0)), int(info.get("height", 0))
    return {
        "fps": round(1000 / described["ms"], 2) if described["ms"] > 0 else None,
        "avg_time_ms": described["ms"],
        "iterations": 1,
        "model": spec.id,
        "scale": scale,
        "capture_width": out_w // scale,
        "capture_height": out_h // scale,
        "output_width": out_w,
        "output_height": out_h,
        **described,
    }


class FaceDetectView(JellyfinView):
    """POST {image, sensitivity, full_range}: the faces' boxes (detect-faces)."""

    @extend_schema(
        tags=[TAG],
        operation_id="jellyfin_face_detect",
        request=FRAME_BODY,
        responses={200: dict, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        frame = frame_of(request)
        options = frame.options
        tool_settings = {
            key: options[name]
            for name, key in (
                ("sensitivity", "sensitivity"),
                ("full_range", "fullRange"),
                ("fullRange", "fullRange"),
            )
            if options.get(name) not in (None, "")
        }
        ran = run(request.user, "detect-faces", tool_settings, frame.upload)
        return Response({**(ran.job.result_json or {}), "model": ran.job.model, **ran.described()})


def face_model(options: dict[str, Any]) -> str:
    """enhance-faces' model for the name a client sends (gfpgan, gfpgan-v1.4, codeformer);
    other names by the id rule: 400 malformed, 400 not a face model, else 404."""
    raw = options.get("model") or options.get("face_model") or "gfpgan"
    if isinstance(raw, str) and raw.lower() in FACE_MODELS:
        return FACE_MODELS[raw.lower()]
    names = ", ".join(FACE_MODELS)
    try:
        spec = spec_or_error(str(raw))
    except ApiError as exc:
        if exc.status_code != 404:
            raise
        raise ApiError(
            404, "MODEL_NOT_FOUND", f"Unknown face model: {str(raw)[:100]}; use one of {names}"
        ) from None
    raise ApiError(400, "NOT_A_FACE_MODEL", f"{spec.id} is no face model; use one of {names}")


class FaceRestoreView(JellyfinView):
    """POST {image, model, strength, fidelity}: faces restored (enhance-faces)."""

    @extend_schema(
        tags=[TAG],
        operation_id="jellyfin_face_restore",
        request=FRAME_BODY,
        responses={200: dict, **ERRORS},
    )
    def post(self, request: Request) -> Any:
        frame = frame_of(request)
        options = frame.options
        tool_settings = {"model": face_model(options), **output_format(options, frame.raw)}
        for name in ("strength", "fidelity"):
            if options.get(name) not in (None, ""):
                tool_settings[name] = options[name]
        ran = run(request.user, "enhance-faces", tool_settings, frame.upload)
        info = ran.job.result_info or {}
        extra = {"faces": info.get("faces"), "model": info.get("restoreModel")}
        return image_answer(ran, frame, extra)


class FacePipelineView(JellyfinView):
    """POST {image, model, scale}: upscaled with its faces restored (upscale, faceEnhance)."""

    @extend_schema(
        tags=[TAG], operation_id="jellyfin_face_pipeline", request=FRAME_BODY,
        responses={200: dict, **ERRORS},
    )  # fmt: skip
    def post(self, request: Request) -> Any:
        frame = frame_of(request)
        spec, scale = model_and_scale(frame.options)
        tool_settings = {
            "model": spec.id,
            "scale": scale,
            "faceEnhance": True,
            **output_format(frame.options, frame.raw),
        }
        ran = run(request.user, UPSCALE_TOOL, tool_settings, frame.upload)
        info = ran.job.result_info or {}
        extra = {"faces": info.get("facesEnhanced"), "model": spec.id, "scale": scale}
        return image_answer(ran, frame, extra)


urlpatterns = [
    path("upscale-frame", UpscaleFrameView.as_view()),
    path("upscale-batch", UpscaleBatchView.as_view()),
    path("benchmark-frame", BenchmarkFrameView.as_view()),
    path("face-restore/detect", FaceDetectView.as_view()),
    path("face-restore/restore", FaceRestoreView.as_view()),
    path("face-restore/pipeline", FacePipelineView.as_view()),
]
