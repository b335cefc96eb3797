"""Optimize for web: scale down to a maximum width and encode for the smallest download.

`format` "auto" encodes every candidate (JPEG, WebP and AVIF; only WebP and AVIF for an
image with transparency, so alpha survives) and keeps the smallest file; `extras` name
the winner and every candidate's size. A fixed format encodes just that one (an image
with alpha sent to JPEG is flattened onto white).

`quality` applies as given to every candidate, in each encoder's own scale (libvips Q,
as sharp and squoosh use it); left out, each format uses its default (JPEG and WebP 80,
AVIF 50, which look about the same). JPEG is progressive with optimised Huffman tables.
`maxWidthPx` only ever shrinks (Lanczos3, alpha premultiplied); the height follows the
aspect ratio. `stripMetadata` (default) drops EXIF/XMP/IPTC, keeping the ICC profile.

Limits: the first page/frame only (an animated GIF becomes a still). Encoding AVIF is
slow on large images, so this tool runs on the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pyvips
from pydantic import Field

from tools import imaging
from tools.base import Context, Output, Source, Tool, ToolSettings
from tools.fields import Quality

_CANDIDATES = ("jpeg", "webp", "avif")
_ALPHA_CANDIDATES = ("webp", "avif")
# Web-specific encoder options: worth their small extra encode time for a file served often.
_WEB_OPTIONS: dict[str, dict[str, Any]] = {
    "jpeg": {"optimize_coding": True, "interlace": True},
    "webp": {"effort": 5, "smart_subsample": True},
    "avif": {},
}


class Settings(ToolSettings):
    """Format (or "auto": the smallest of the candidates), quality, maximum width."""

    format: Literal["auto", "jpeg", "webp", "avif"] = Field(
        "auto", description='"auto" keeps the smallest of JPEG, WebP and AVIF.'
    )
    quality: Quality | None = Field(
        None, description="Encoder quality; default per format (JPEG/WebP 80, AVIF 50)."
    )
    maxWidthPx: int | None = Field(
        None, ge=1, le=16383, description="Scale down to at most this width (never up)."
    )
    stripMetadata: bool = Field(True, description="Drop EXIF/XMP/IPTC (the ICC profile stays).")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Scale one image down if needed and encode it as the smallest web format."""
    source = inputs[0]
    ctx.progress(5, "decoding")
    image = _scaled(imaging.load(source, ctx.max_megapixels), settings.maxWidthPx)
    image = image.copy_memory()  # decoded once, encoded up to three times
    fmt, path, sizes = _smallest(image, _formats(settings.format, image.hasalpha()), settings, ctx)
    ctx.progress(100, "done")
    extras = {"format": fmt, "candidates": sizes, "size": sizes[fmt], "originalSize": source.size}
    extras |= {"width": image.width, "height": image.height}
    return imaging.image_output(path, fmt, imaging.engine_name(source.format, fmt), **extras)


def _smallest(
    image: pyvips.Image, formats: Sequence[str], settings: Settings, ctx: Context
) -> tuple[str, Path, dict[str, int]]:
    """Encode every format; keep the smallest file (deleting the others) and all sizes."""
    paths: dict[str, Path] = {}
    try:
        for index, fmt in enumerate(formats):
            ctx.check_cancelled()
            ctx.progress(20 + 70 * index / len(formats), f"encoding {fmt}")
            paths[fmt] = _encode(image, fmt, settings, ctx)
    except BaseException:
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise
    sizes = {fmt: path.stat().st_size for fmt, path in paths.items()}
    best = min(sizes, key=lambda fmt: sizes[fmt])
    for fmt, path in paths.items():
        if fmt != best:
            path.unlink()
    return best, paths[best], sizes


def _formats(requested: str, has_alpha: bool) -> tuple[str, ...]:
    if requested != "auto":
        return (requested,)
    return _ALPHA_CANDIDATES if has_alpha else _CANDIDATES


def _scaled(image: pyvips.Image, max_width: int | None) -> pyvips.Image:
    """Shrink to `max_width` keeping the aspect ratio; premultiplied so edges don't fringe."""
    if max_width is None or image.width <= max_width:
        return image
    scale = max_width / image.width
    if not image.hasalpha():
        return image.resize(scale, kernel="lanczos3")
    fmt = image.format
    return image.premultiply().resize(scale, kernel="lanczos3").unpremultiply().cast(fmt)


def _encode(image: pyvips.Image, fmt: str, settings: Settings, ctx: Context) -> Path:
    path = imaging.output_path(ctx, fmt)
    return imaging.save(
        image,
        path,
        fmt,
        quality=settings.quality,
        strip=settings.stripMetadata,
        **_WEB_OPTIONS[fmt],
    )


TOOL = Tool(
    id="optimize-for-web",
    name="Optimize for Web",
    category="optimization",
    description="Scale down and encode as the smallest of JPEG, WebP and AVIF (or one of "
    "them), metadata stripped.",
    settings=Settings,
    run=run,
    inline=False,
)
