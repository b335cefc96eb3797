"""Automatic1111's extras (scripts/postprocessing_upscale.py, _gfpgan.py, _codeformer.py)
as jobs of our tools, through the submission service.

What A1111 does, and what runs here:

- Size. resize_mode 0: the image times `upscaling_resize` (any factor > 0; the output
  may not pass the pixel limit). resize_mode 1: A1111 scales by
  max(w / width, h / height), so the image covers `upscaling_resize_w` x `_h`, then with
  `upscaling_crop` (its default) crops the centre to exactly that size; without it, it
  keeps the whole scaled image (larger than the box on one side). Sides are truncated to
  whole pixels as A1111's int() does. A1111 >= 1.6 also floors a model's output to a
  multiple of 8 (its SD latent grid); here the size asked for is the size returned.
- A model upscaler runs the `upscale` tool at the smallest native scale (2, 3, 4) that
  reaches the factor (4 above it), then `resize` (libvips Lanczos3) brings it to the
  exact size: both steps are ONE pipeline job (no `resize` when the model's output is
  already the size). "Lanczos" and "Nearest" are `resize` alone; "None" leaves the image
  as it is (and upscaler_2 is then ignored, as in A1111).
- upscaler_2 with `extras_upscaler_2_visibility` > 0: the same size again with the
  second upscaler, then A1111's Image.blend(first, second, visibility) as the `compose`
  tool (the second over the first at that opacity; alpha is quantised to 1/255): three
  jobs, the engine doing the pixels.
- gfpgan_visibility / codeformer_visibility > 0: the `enhance-faces` tool after the
  upscale (A1111's order: upscale, GFPGAN, CodeFormer), strength = visibility, CodeFormer's
  fidelity = codeformer_weight (A1111's "0 = maximum effect" is ours too); one job. The
  models are downloads: 503 MODEL_NOT_INSTALLED before any work when one is missing. An
  image without a face comes back unchanged, as A1111 returns it.
- The result is PNG (A1111's default samples_format). An input's alpha is kept (A1111
  drops it: openOutpaint's transparent canvas areas would come back black).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.compat import common
from apps.compat.a1111_requests import ExtrasRequest
from apps.compat.a1111_upscalers import Upscaler, find, require_face_model
from apps.core.errors import ApiError
from apps.jobs import services
from apps.jobs.models import Job
from apps.jobs.steps import validate_steps

MAX_SIDE = 16383  # the resize tool's bound, as every encoder here takes
NATIVE_SCALES = (2, 3, 4)
NO_FACE = "NO_FACE_FOUND"


@dataclass(frozen=True)
class Geometry:
    """The input's size, the output's, the factor a model must reach, and the `resize`
    settings that give exactly the output from any enlargement of the input."""

    source: tuple[int, int]
    size: tuple[int, int]
    factor: float
    resize: dict[str, Any]


@dataclass
class Outcome:
    """One extras run: the PNG, the jobs that made it, A1111's infotext items."""

    data: bytes
    jobs: list[Job] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)

    @property
    def made_by(self) -> Job | None:
        """The job whose result `data` is (None while it is the image as sent)."""
        done = [j for j in self.jobs if j.status == Job.Status.COMPLETED]
        return done[-1] if done else None

    @property
    def html_info(self) -> str:
        """A1111's plaintext_to_html of its infotext, plus what really ran."""
        items = {**self.info, **credits(self.jobs)}
        return "<p>" + html.escape(", ".join(f"{k}: {v}" for k, v in items.items())) + "</p>"


@dataclass(frozen=True)
class Plan:
    """A request resolved: its upscalers (found, or 404) and its face-restore steps."""

    request: ExtrasRequest
    first: Upscaler
    second: Upscaler | None
    faces: list[dict[str, Any]]

    @classmethod
    def of(cls, request: ExtrasRequest) -> Plan:
        first = find(request.upscaler_1, "upscaler_1")
        second = find(request.upscaler_2, "upscaler_2")  # A1111 checks it even if unused
        blended = not second.is_none and request.extras_upscaler_2_visibility > 0
        return cls(request, first, second if blended else None, face_steps(request))

    def shape(self, source: tuple[int, int]) -> Geometry | None:
        """One image's geometry (None: no upscaling), every size checked before any job
        runs: the result's, and a model's own output before it is resized."""
        if self.first.is_none:
            return None
        shape = geometry(source, self.request)
        for upscaler in (self.first, self.second):
            if upscaler is not None and upscaler.model is not None:
                scale = model_scale(shape.factor)
                _check_size((source[0] * scale, source[1] * scale), f"the model's x{scale} output")
        return shape


def face_steps(request: ExtrasRequest) -> list[dict[str, Any]]:
    """enhance-faces steps in A1111's order (GFPGAN, then CodeFormer); each model must be
    installed (503 before any work)."""
    steps = []
    if request.gfpgan_visibility > 0:
        require_face_model("gfpgan")
        gfpgan = {"model": "gfpgan", "strength": request.gfpgan_visibility, "format": "png"}
        steps.append({"toolId": "enhance-faces", "settings": gfpgan})
    if request.codeformer_visibility > 0:
        require_face_model("codeformer")
        codeformer = {
            "model": "codeformer",
            "strength": request.codeformer_visibility,
            "fidelity": request.codeformer_weight,
            "format": "png",
        }
        steps.append({"toolId": "enhance-faces", "settings": codeformer})
    return steps


def geometry(source: tuple[int, int], request: ExtrasRequest) -> Geometry:
    """The output size A1111 gives (see the module docstring); 400 OUTPUT_TOO_LARGE past
    the pixel limit or the largest side the encoders take."""
    width, height = source
    if request.resize_mode == 0:
        factor = request.upscaling_resize
        size = (_side(width * factor), _side(height * factor))
        resize = {"width": size[0], "height": size[1], "fit": "fill"}
    else:
        box = (request.upscaling_resize_w, request.upscaling_resize_h)
        factor = max(box[0] / width, box[1] / height)
        if request.upscaling_crop:
            size, resize = box, {"width": box[0], "height": box[1], "fit": "cover"}
        else:
            size = (_side(width * factor), _side(height * factor))
            resize = {"width": size[0], "height": size[1], "fit": "fill"}
    _check_size(size, "the result")
    return Geometry(source, size, factor, resize)


def _side(value: float) -> int:
    """A1111's int() truncation, with a hair of slack for float error (32 * 1.1)."""
    return max(1, int(min(value, 10.0 * MAX_SIDE) + 1e-6))


def _check_size(size: tuple[int, int], what: str) -> None:
    width, height = size
    limit = settings.MAX_MEGAPIXELS
    if width * height > limit * 1_000_000 or max(size) > MAX_SIDE:
        raise ApiError(
            400,
            "OUTPUT_TOO_LARGE",
            f"{what.capitalize()} would be {width}x{height} px, over the {limit} MP limit "
            f"or {MAX_SIDE} px a side: use a smaller upscaling_resize or target size",
        )


def model_scale(factor: float) -> int:
    """The smallest native scale that reaches `factor`; the largest above them all."""
    return next((s for s in NATIVE_SCALES if s >= factor - 1e-9), NATIVE_SCALES[-1])


def upscale_steps(upscaler: Upscaler, shape: Geometry) -> list[dict[str, Any]]:
    """One upscaler's steps to exactly `shape.size`: [upscale, resize], or resize alone."""
    resize = {"toolId": "resize", "settings": {**shape.resize, "format": "png"}}
    if upscaler.model is None:
        return [resize]
    scale = model_scale(shape.factor)
    model = {"scale": scale, "model": upscaler.model.id, "format": "png"}
    steps = [{"toolId": "upscale", "settings": model}]
    enlarged = (shape.source[0] * scale, shape.source[1] * scale)
    return steps if enlarged == shape.size else [*steps, resize]


def run_job(user: Any, raw_steps: list[dict[str, Any]], images: Sequence[bytes]) -> Job:
    """The steps as one job (a pipeline when several) through the submission service,
    waited for (COMPAT_WAIT_S)."""
    steps = validate_steps(raw_steps)  # enabled tools, valid settings, before any job
    uploads = [SimpleUploadedFile(f"image-{i}.png", data) for i, data in enumerate(images)]
    work = services.Work(steps=steps, uploads=uploads, pipeline=len(steps) > 1)
    return common.finished(services.submit(user, work))


def run_extras(user: Any, image: bytes, shape: Geometry | None, plan: Plan) -> Outcome:
    """One image through the plan (its `shape` from `plan.shape`): upscale(s), blend,
    faces; see the module docstring."""
    outcome = Outcome(image)
    if shape is not None:
        outcome.info.update(size_info(plan.request))
        outcome.data = _upscaled(user, image, shape, plan, outcome)
    if plan.faces:
        _restore_faces(user, plan, outcome)
    if outcome.made_by is None:  # nothing (else) ran: A1111 still answers a PNG of it
        as_png = [{"toolId": "convert", "settings": {"format": "png"}}]
        outcome.data = _keep(outcome, run_job(user, as_png, [image]))
    return outcome


def _upscaled(user: Any, image: bytes, shape: Geometry, plan: Plan, outcome: Outcome) -> bytes:
    first = _keep(outcome, run_job(user, upscale_steps(plan.first, shape), [image]))
    outcome.info["Postprocess upscaler"] = plan.first.label
    if plan.second is None:
        return first
    second = _keep(outcome, run_job(user, upscale_steps(plan.second, shape), [image]))
    visibility = plan.request.extras_upscaler_2_visibility
    blend = {"opacity": visibility * 100, "blend": "over", "format": "png"}
    blended = _keep(
        outcome, run_job(user, [{"toolId": "compose", "settings": blend}], [first, second])
    )
    outcome.info["Postprocess upscaler 2"] = f"{plan.second.label} at {visibility:g}"
    return blended


def _restore_faces(user: Any, plan: Plan, outcome: Outcome) -> None:
    request = plan.request
    job = run_job(user, plan.faces, [outcome.data])
    if job.status == Job.Status.FAILED and job.error_code == NO_FACE:
        outcome.jobs.append(job)
        outcome.info["Face restoration"] = "no face found, image unchanged"
    else:
        outcome.data = _keep(outcome, job)
    if request.gfpgan_visibility > 0:
        outcome.info["GFPGAN visibility"] = f"{request.gfpgan_visibility:g}"
    if request.codeformer_visibility > 0:
        outcome.info["CodeFormer visibility"] = f"{request.codeformer_visibility:g}"
        outcome.info["CodeFormer weight"] = f"{request.codeformer_weight:g}"


def _keep(outcome: Outcome, job: Job) -> bytes:
    """The job's result (its error raised), recorded as part of the outcome."""
    data = common.result_bytes(job)
    outcome.jobs.append(job)
    return data


def size_info(request: ExtrasRequest) -> dict[str, str]:
    """A1111's infotext items for the size."""
    if request.resize_mode == 0:
        return {"Postprocess upscale by": f"{request.upscaling_resize:g}"}
    box = f"{request.upscaling_resize_w}x{request.upscaling_resize_h}"
    info = {"Postprocess upscale to": box}
    if request.upscaling_crop:
        info["Postprocess crop to"] = box
    return info


def credits(jobs: Sequence[Job]) -> dict[str, str]:
    """What really ran, from the jobs themselves: engines, models, devices, job ids."""
    done = [j for j in jobs if j.status == Job.Status.COMPLETED]
    info: dict[str, str] = {}
    engines = [_credited(j, j.engine) for j in done if j.engine]
    models = [_credited(j, j.model) for j in done if j.model]
    devices = sorted({j.device for j in done if j.device})
    if engines:
        info["Engine"] = " | ".join(engines)
    if models:
        info["Model"] = " | ".join(models)
    if devices:
        info["Device"] = "/".join(devices)
    if jobs:
        info["Jobs"] = " ".join(str(j.pk) for j in jobs)
    return info


def _credited(job: Job, text: str) -> str:
    """A pipeline's engine and model name each step already; a tool job's get its id."""
    return text if job.is_pipeline else f"{job.tool_id}: {text}"
