"""The Jellyfin AI service adapter's working parts: reading a frame from whichever body
its clients send, choosing the model, running one tool synchronously, and describing
what ran.

Two bodies reach `upscale-frame`: the seed's JSON `{image: base64, model, scale}`, and
what the real plugin sends (Kuschel-code/JellyfinUpscalerPlugin: `HttpUpscalerService`
and `player-integration.js` POST the raw JPEG or PNG bytes, application/octet-stream or
image/*, and read raw image bytes back). A multipart `image`/`file` is accepted too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from rest_framework.request import Request

from apps.compat.common import job_error, result_bytes, submit_tool
from apps.compat.upscale_service_common import (
    FRAME_MODEL,
    SCALES,
    field_choice,
    field_int,
    upscale_model,
    upscale_models,
)
from apps.core.errors import ApiError
from apps.core.uploads import upload_from_base64
from apps.jobs.models import Job
from apps.models.runtime import loaded_by_model
from tools.ai.catalog import ModelSpec

FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
RAW_QUALITY = 85  # the real service answers raw frames as JPEG at quality 85


@dataclass(frozen=True)
class Frame:
    """One request's image and its options: `raw` when the body was the image itself
    (then the options come from the query string and the answer is the image itself)."""

    upload: UploadedFile
    options: dict[str, Any]
    raw: bool


def frame_of(request: Request) -> Frame:
    """The image a request carries, in any of the three bodies."""
    data: Any = request.data
    kind = (request.content_type or "").split(";")[0].strip().lower()
    if not data and (kind.startswith("image/") or kind == "application/octet-stream"):
        data = b""  # an empty body never reaches a parser
    if isinstance(data, bytes):
        if not data:
            raise ApiError(400, "NO_FILE", "The body is empty: send an image")
        return Frame(SimpleUploadedFile("frame", data), dict(request.query_params.items()), True)
    if not isinstance(data, dict):
        raise ApiError(400, "INVALID_REQUEST_BODY", "Send a JSON object {image, model, scale}")
    upload = request.FILES.get("image") or request.FILES.get("file")
    if upload is not None:
        return Frame(upload, {k: data.get(k) for k in data if k not in ("image", "file")}, False)
    return Frame(upload_from_base64(data.get("image"), "image", "frame"), dict(data), False)


def json_object(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise ApiError(400, "INVALID_REQUEST_BODY", "Send a JSON object")
    return dict(request.data)


def default_model() -> str:
    """What the real service uses: the loaded model. Here, an upscale model some worker
    holds (catalog order), else the one made for video frames."""
    loaded = loaded_by_model()
    held = [spec.id for spec in upscale_models() if loaded.get(spec.id)]
    return held[0] if held else FRAME_MODEL


def model_and_scale(options: dict[str, Any]) -> tuple[ModelSpec, int]:
    """The model (`model` or `model_name`, validated by the id rule) and the scale (the
    model's smallest native one unless asked: no resampling after the network)."""
    spec = upscale_model(options.get("model") or options.get("model_name") or default_model())
    return spec, field_int(options, "scale", min(spec.scales), choices=SCALES)


def output_format(options: dict[str, Any], raw: bool) -> dict[str, Any]:
    fmt = field_choice(options, "format", None, FORMATS)
    if fmt is None:
        return {"format": "jpeg", "quality": RAW_QUALITY} if raw else {}
    return {"format": FORMATS[fmt]}


@dataclass(frozen=True)
class Ran:
    """A finished job, its result file's bytes, and the wall time of the request."""

    job: Job
    data: bytes | None
    wall_ms: float

    def described(self) -> dict[str, Any]:
        """What ran, honestly: the device and engine the worker reports, and the times."""
        job = self.job
        processing = (job.duration_s or 0.0) * 1000
        return {
            "provider": job.device or None,
            "using_gpu": "gpu" in (job.device or ""),
            "engine": job.engine or None,
            "ms": round(processing, 1),
            "wall_ms": round(self.wall_ms, 1),
            "job_id": str(job.pk),
        }


def run(user: Any, tool_id: str, tool_settings: dict[str, Any], upload: UploadedFile) -> Ran:
    """One tool over one image, waited for; its error raised as the job failed with it."""
    started = time.perf_counter()
    job = submit_tool(user, tool_id, tool_settings, [upload])
    if job.status != Job.Status.COMPLETED:
        raise job_error(job)
    data = result_bytes(job) if job.result_json is None else None  # JSON: job.result_json
    return Ran(job, data, (time.perf_counter() - started) * 1000)


def image_fields(ran: Ran) -> dict[str, Any]:
    """An image result as the JSON answers carry it (the base64 is added by the caller)."""
    image = pyvips.Image.new_from_buffer(ran.data or b"", "")
    fmt = (ran.job.result_media_type or "image/png").split("/")[-1]
    return {"format": fmt, "width": image.width, "height": image.height}


def synthetic_frame(width: int, height: int) -> UploadedFile:
    """A benchmark frame as the real service makes one: noise, JPEG at quality 85."""
    bands = [pyvips.Image.gaussnoise(width, height, mean=128, sigma=48, seed=s) for s in (1, 2, 3)]
    rgb = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb")
    data = rgb.jpegsave_buffer(Q=RAW_QUALITY)
    return SimpleUploadedFile("benchmark.jpg", bytes(data), "image/jpeg")
