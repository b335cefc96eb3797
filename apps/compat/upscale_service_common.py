"""What the three upscaling adapters share (the small upscale service, the Jellyfin AI
service and SeedVR2): which catalog models upscale, validating their foreign form and
JSON fields into our error shape, and reading sizes off stored files.

Field checks answer 400 VALIDATION_ERROR naming the foreign field as its client sent it
(`tile_size`, not our `tileSize`), before any job exists.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyvips

from apps.core.errors import ApiError
from apps.jobs import storage
from apps.jobs.models import Job
from apps.models.services import spec_or_error
from tools.ai.catalog import ModelSpec, catalog

UPSCALE_TOOL = "upscale"
DEFAULT_MODEL = "realesrgan-x4plus"  # the upscale tool's `auto`, and the seed's default
FRAME_MODEL = "realesr-animevideov3"  # made for video frames, and ~18x faster on a CPU
SCALES = (2, 3, 4)


def upscale_models() -> list[ModelSpec]:
    """Catalog models the upscale tool runs, in catalog order."""
    return [s for s in catalog().values() if s.task == "upscale" and UPSCALE_TOOL in s.tools]


def upscale_model(model_id: Any, field: str = "model") -> ModelSpec:
    """The upscale model a client names: 400 INVALID_MODEL_ID for an id that breaks the id
    rule (`a..b`, `.hidden`, `trail.`, `x/y`), 404 MODEL_NOT_FOUND naming the ones there
    are, 400 NOT_AN_UPSCALE_MODEL for a catalog model of another task."""
    if not isinstance(model_id, str) or not model_id:
        raise ApiError(400, "VALIDATION_ERROR", f"'{field}' must be a model name")
    names = ", ".join(s.id for s in upscale_models())
    try:
        spec = spec_or_error(model_id)
    except ApiError as exc:
        if exc.status_code != 404:
            raise
        shown = model_id[:100]
        raise ApiError(
            404, "MODEL_NOT_FOUND", f"Unknown model: {shown}; the upscale models are: {names}"
        ) from None
    if spec.id not in {s.id for s in upscale_models()}:
        raise ApiError(
            400,
            "NOT_AN_UPSCALE_MODEL",
            f"{spec.id} is a {spec.task} model, not an upscaler; the upscale models are: {names}",
        )
    return spec


def field_int(
    data: Mapping[str, Any],
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    choices: Collection[int] = (),
) -> int:
    """An integer field (a number or a string of digits, as forms send them), or its
    default when absent or empty."""
    raw = data.get(name)
    if raw is None or raw == "":
        return default
    value = _as_int(raw)
    if value is None:
        raise ApiError(400, "VALIDATION_ERROR", f"'{name}' must be an integer")
    if choices and value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise ApiError(400, "VALIDATION_ERROR", f"'{name}' must be one of {allowed}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ApiError(400, "VALIDATION_ERROR", f"'{name}' must be between {minimum} and {maximum}")
    return value


def _as_int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw).strip()
    if text.lstrip("-").isdigit() and len(text) <= 12:
        return int(text)
    return None


def field_choice(
    data: Mapping[str, Any], name: str, default: str | None, choices: Collection[str]
) -> str | None:
    """A string field out of `choices` (case-insensitive), or its default."""
    raw = data.get(name)
    if raw is None or raw == "":
        return default
    value = str(raw).strip().lower()
    if value not in choices:
        raise ApiError(
            400, "VALIDATION_ERROR", f"'{name}' must be one of {', '.join(sorted(choices))}"
        )
    return value


def image_size(path: Path) -> dict[str, int] | None:
    """{width, height} of a stored image as displayed (EXIF orientation applied), from its
    header only; None when it is no image libvips reads."""
    try:
        image = pyvips.Image.new_from_file(str(path))
    except pyvips.Error:
        return None
    turned = image.get_typeof("orientation") and int(image.get("orientation")) in (5, 6, 7, 8)
    width, height = (image.height, image.width) if turned else (image.width, image.height)
    return {"width": width, "height": height}


def result_size(job: Job) -> dict[str, int] | None:
    """The size of a completed job's stored image result (None once it is gone)."""
    path = storage.result_path(job)
    if path is None or not job.result_media_type.startswith("image/"):
        return None
    return image_size(path)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
