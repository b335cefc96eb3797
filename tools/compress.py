"""Compress: re-encode at a quality, or find the best quality that meets a target size.

`quality` (default 80) means the encoder quality for jpeg/webp/avif/heif, palette
quantisation for png (100 = lossless at zlib level 9), fewer colours for gif and JPEG
compression for tiff. `format` defaults to the input's. Metadata is dropped.

`targetSizeKB` (1 KB = 1024 bytes): a binary search over quality 1..`quality` finds the
highest quality whose file fits. It never returns a file over the target when one at
quality >= 1 fits. When even quality 1 is too big, the image is scaled down (by the
square root of the size ratio, with a margin) and searched again, up to 4 times; if
that still fails the smallest file is returned with `targetMet: false`. `extras` say
which quality was used, the size reached, and the size of any scaled-down result.
Limits: the first page/frame only; a search costs up to ~8 encodes per round (slow for
AVIF/HEIC), so this tool runs on the queue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips
from pydantic import AliasChoices, Field

from tools import imaging
from tools.base import Context, Output, Source, Tool, ToolSettings
from tools.fields import ImageFormat, Quality

_MAX_SCALE_ROUNDS = 4
_SIZE_MARGIN = 0.9  # aim a little under the target: size is not exactly proportional to area
# Size is the point here: spend the extra encoder time that other tools don't.
_SMALLEST: dict[str, dict[str, Any]] = {
    "png": {"compression": 9},
    "jpeg": {"optimize_coding": True},
}


class Settings(ToolSettings):
    """Quality (the ceiling when a target size is given), format, target size."""

    quality: Quality = 80
    format: ImageFormat | None = Field(None, description="Default: the input's format.")
    targetSizeKB: float | None = Field(
        None,
        gt=0,
        le=1_000_000,
        description="Largest acceptable file size, in KiB (also accepted as targetSizeKb).",
        validation_alias=AliasChoices("targetSizeKB", "targetSizeKb"),
    )


@dataclass(frozen=True)
class Attempt:
    """One encode tried during the search."""

    quality: int
    size: int
    path: Path


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Re-encode one image, searching quality (and size) when a target size is given."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    image = imaging.load(source, ctx.max_megapixels)
    if settings.targetSizeKB is None:
        attempt = _encode(image, fmt, settings.quality, ctx)
        return _output(attempt, fmt, source, image, original=source.size)
    image = image.copy_memory()  # decoded once, encoded many times
    target = int(settings.targetSizeKB * 1024)
    best, smallest = _search(image, fmt, settings.quality, target, ctx)
    for _ in range(_MAX_SCALE_ROUNDS):
        if best is not None or image.width * image.height <= 1:
            break
        image = _shrink(image, math.sqrt(target / smallest.size) * _SIZE_MARGIN)
        smallest.path.unlink(missing_ok=True)  # the smaller image will do better
        best, smallest = _search(image, fmt, settings.quality, target, ctx)
    chosen = best or smallest
    if smallest is not chosen:
        smallest.path.unlink(missing_ok=True)
    extras = {"targetSizeKB": settings.targetSizeKB, "targetMet": best is not None}
    return _output(chosen, fmt, source, image, original=source.size, **extras)


def _search(
    image: pyvips.Image, fmt: str, ceiling: int, target: int, ctx: Context
) -> tuple[Attempt | None, Attempt]:
    """Binary search for the highest quality in 1..ceiling whose file fits `target`.

    Returns that attempt (None when even quality 1 is too big) and the smallest file
    made; every other file tried is deleted.
    """
    tried = [_encode(image, fmt, ceiling, ctx)]
    low, high = 1, ceiling - 1
    while tried[0].size > target and low <= high:
        ctx.check_cancelled()
        mid = (low + high) // 2
        tried.append(_encode(image, fmt, mid, ctx))
        low, high = (mid + 1, high) if tried[-1].size <= target else (low, mid - 1)
    best = max((a for a in tried if a.size <= target), key=lambda a: a.quality, default=None)
    smallest = min(tried, key=lambda a: a.size)
    for attempt in tried:
        if attempt is not best and attempt is not smallest:
            attempt.path.unlink(missing_ok=True)
    return best, smallest


def _encode(image: pyvips.Image, fmt: str, quality: int, ctx: Context) -> Attempt:
    ctx.progress(50, f"encoding {fmt} at quality {quality}")
    opts = _SMALLEST.get(fmt, {})
    q = None if fmt in ("png", "tiff") and quality >= 100 else quality  # 100: lossless
    path = imaging.save(image, imaging.output_path(ctx, fmt), fmt, quality=q, **opts)
    return Attempt(quality, path.stat().st_size, path)


def _shrink(image: pyvips.Image, factor: float) -> pyvips.Image:
    """Scale down by `factor` (at least 1 px); alpha premultiplied to avoid fringes."""
    factor = max(factor, 1 / min(image.width, image.height))
    if not image.hasalpha():
        return image.resize(factor, kernel="lanczos3").copy_memory()
    fmt = image.format
    small = image.premultiply().resize(factor, kernel="lanczos3").unpremultiply()
    return small.cast(fmt).copy_memory()


def _output(
    attempt: Attempt, fmt: str, source: Source, image: pyvips.Image, original: int, **extra: Any
) -> Output:
    extras = {
        "quality": attempt.quality,
        "size": attempt.size,
        "originalSize": original,
        "width": image.width,
        "height": image.height,
        **extra,
    }
    return imaging.image_output(
        attempt.path, fmt, imaging.engine_name(source.format, fmt), **extras
    )


TOOL = Tool(
    id="compress",
    name="Compress",
    category="essentials",
    description="Re-encode smaller at a quality, or meet a target file size by searching it.",
    settings=Settings,
    run=run,
    inline=False,
)
