"""Sharpening: adaptive (libvips), unsharp mask with threshold, or high-pass overlay.

All three sharpen lightness only (CIELAB L; libvips' LabS for adaptive), so edges get
crisper without colour fringes, and alpha is left as it is.

- `adaptive`: libvips `sharpen` with `radius` as the Gaussian sigma. Differences below
  `threshold` count as flat areas and are sharpened at a quarter of the rate of edges
  (slopes m1 = amount/400 and m2 = amount/100 * 2, as sharp's defaults at 100%), and
  the change per pixel is capped (+10 / -20 L), which keeps halos small.
- `unsharp`: the classic mask: L + amount/100 * (L - blur(L, radius)), where the
  difference is at least `threshold` (else the pixel is left alone: noise and skin
  stay smooth).
- `highpass`: the high-pass layer (L - blur(L, radius), zeroed under `threshold`) blended
  over the image in overlay mode at `amount` percent opacity (above 100 extrapolates).

`threshold` is in 8-bit levels (0..255) of lightness; left out, it is 5 for adaptive
(libvips' flat/jagged split) and 0 for the others. `radius` is in pixels (sigma).
Limits: the first page/frame only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pyvips
from pydantic import Field

from tools import colour, imaging
from tools.base import Context, Output, Source, Tool
from tools.fields import ImageOutputSettings

_L_PER_LEVEL = 100 / 255  # threshold levels to CIELAB lightness units
_ADAPTIVE_THRESHOLD = 5


class Settings(ImageOutputSettings):
    """Mode, amount (%), radius (px) and threshold (levels)."""

    mode: Literal["adaptive", "unsharp", "highpass"] = Field(
        "adaptive", description="adaptive (libvips), unsharp mask, or high-pass overlay."
    )
    amount: float = Field(100, ge=0, le=500, description="Strength in percent.")
    radius: float = Field(1.0, ge=0.3, le=10, description="Blur sigma in pixels.")
    threshold: int | None = Field(
        None, ge=0, le=255, description="Leave differences below this (0..255) alone."
    )


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Sharpen one image's lightness by the chosen method."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    parts = colour.split(imaging.load(source, ctx.max_megapixels))
    ctx.progress(30, f"sharpening ({settings.mode})")
    if settings.mode == "adaptive":
        rgb = _adaptive(parts, settings)
    else:
        lab = colour.to_lab(parts.colour, parts.interpretation)
        sharpen = _unsharp if settings.mode == "unsharp" else _highpass
        lightness = sharpen(lab[0], settings)
        rgb = colour.from_lab(lightness.bandjoin(lab.extract_band(1, n=2)), parts)
    return imaging.write_image(colour.join(parts, rgb), ctx, fmt, source, quality=settings.quality)


def _threshold(s: Settings) -> float:
    """The threshold in L units."""
    levels = s.threshold if s.threshold is not None else 0
    if s.threshold is None and s.mode == "adaptive":
        levels = _ADAPTIVE_THRESHOLD
    return levels * _L_PER_LEVEL


def _adaptive(parts: colour.Split, s: Settings) -> pyvips.Image:
    rgb = parts.colour.copy(interpretation=parts.interpretation)
    k = s.amount / 100
    return rgb.sharpen(sigma=s.radius, x1=_threshold(s), m1=k / 4, m2=2 * k, y2=10, y3=20)


def _detail(lightness: pyvips.Image, s: Settings) -> pyvips.Image:
    """L minus its Gaussian blur, zeroed where smaller than the threshold."""
    detail = lightness - lightness.gaussblur(s.radius, precision="float")
    limit = _threshold(s)
    if limit <= 0:
        return detail
    return (detail.abs() >= limit).ifthenelse(detail, 0)


def _unsharp(lightness: pyvips.Image, s: Settings) -> pyvips.Image:
    return lightness + _detail(lightness, s) * (s.amount / 100)


def _highpass(lightness: pyvips.Image, s: Settings) -> pyvips.Image:
    """Overlay-blend a mid-grey-centred high-pass layer, then mix by `amount`."""
    base = lightness / 100
    layer = (_detail(lightness, s) / 100 + 0.5).clamp(min=0, max=1)
    dark = base * layer * 2
    light = 1 - (1 - base) * (1 - layer) * 2
    blended = (base < 0.5).ifthenelse(dark, light)
    return (base + (blended - base) * (s.amount / 100)) * 100


TOOL = Tool(
    id="sharpening",
    name="Sharpening",
    category="adjustments",
    description="Sharpen edges: adaptive (libvips), unsharp mask with threshold, or "
    "high-pass overlay; lightness only, alpha kept.",
    settings=Settings,
    run=run,
)
