"""Noise removal with classic denoisers from OpenCV, in three speed/quality tiers.

- `fast`: OpenCV's bilateral filter on lightness (edge-preserving; d=5) and a median
  on the chroma bands.
- `balanced`: OpenCV non-local means (`fastNlMeansDenoisingColored`: lightness and
  colour in CIELAB, each with its own filter strength), 7 px patches, 11 px search window.
- `best`: the same with 5 px patches over a 21 px search window, then a median on the
  chroma bands (colour blotches are larger than the patches); ~2x the time of `balanced`.

The noise level sigma is measured first (Immerkaer's fast noise variance estimation: a
Laplacian-difference kernel over the luma, 1996), so the filter strength fits the image:
`strength` 50 sets h to the measured sigma, 100 to twice it, 0 turns the filter off.
`colorNoise` (0..100) scales the strength on colour (chroma) noise the same way, and
`preserveDetail` (0..100) gives back the original pixels on edges (found on the denoised
image, so grain does not count as an edge) by up to that percentage.

Alpha is never changed. OpenCV's denoisers work on 8-bit data: a 16-bit image is
denoised through its 8-bit version and the change (scaled by 257) is applied to the
16-bit pixels, so smooth 16-bit gradients keep their depth. Grey images come back RGB.
Limits: the first page/frame only; time grows with pixels (see bench/tools.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Literal

import numpy as np
from pydantic import Field

from tools import arrays, colour, imaging
from tools.base import Context, Output, Source, Tool, ToolSettings
from tools.fields import ImageFormat, Quality

# (patch, search window) in pixels. `best` compares smaller patches over a larger window:
# measured on noisy photos, that beats 7/21 (which over-smooths fine texture).
_WINDOWS = {"balanced": (7, 11), "best": (5, 21)}
RowsDone = Callable[[int, int], None]  # (rows done, rows in all)
_STRIP_ROWS = 512  # non-local means runs in strips of at least this many rows
_MIN_SIGMA = 2.0  # below this an image is clean: strength still has some effect
# Immerkaer's kernel: the difference of two Laplacians, blind to smooth gradients.
_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
_EDGE_LEVELS = 40.0  # a Sobel gradient this strong (8-bit levels) counts as a full edge


class Settings(ToolSettings):
    """Tier, strength on lightness and on colour noise, and how much edge detail to keep."""

    quality: Literal["fast", "balanced", "best"] = Field(
        "balanced", description="fast (bilateral), balanced or best (non-local means)."
    )
    strength: float = Field(50, ge=0, le=100, description="How much noise to remove.")
    preserveDetail: float = Field(
        50, ge=0, le=100, description="Give back original pixels on edges, up to this %."
    )
    colorNoise: float = Field(50, ge=0, le=100, description="Strength on colour blotches.")
    format: ImageFormat | None = Field(None, description="Default: the input's format.")
    outputQuality: Quality | None = Field(None, description="Encoder quality.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Denoise one image's colour bands with the chosen tier; alpha is kept."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    image = imaging.load(source, ctx.max_megapixels)
    parts = colour.split(image)
    pixels = arrays.to_array(parts.colour)
    eight = arrays.eight_bit(pixels)
    ctx.progress(20, f"denoising ({settings.quality})")
    ctx.check_cancelled()
    sigma = noise_sigma(eight)

    def rows_done(done: int, total: int) -> None:
        ctx.check_cancelled()
        ctx.progress(20 + 40 * done / total, f"denoising ({settings.quality}): row {done}/{total}")

    cleaned = denoise(eight, settings, sigma, rows_done)
    cleaned = keep_edges(eight, cleaned, settings.preserveDetail)
    ctx.progress(60, "finishing")
    if parts.format == "uchar":
        result = cleaned
    else:
        change = cleaned.astype(np.int32) - eight.astype(np.int32)
        result = np.clip(pixels.astype(np.int32) + change * 257, 0, 65535).astype(np.uint16)
    rgb = arrays.from_array(result, parts.interpretation, like=image)
    output = imaging.write_image(
        colour.join(parts, rgb), ctx, fmt, source, quality=settings.outputQuality
    )
    f = filter_strengths(settings, sigma)
    output.engine = f"{engine(settings, f)} + {output.engine}"
    output.extras = {"tier": settings.quality, "noiseSigma": round(sigma, 2), **f}
    return output


def noise_sigma(rgb: np.ndarray) -> float:
    """Immerkaer's estimate of the Gaussian noise sigma of the luma, in 8-bit levels."""
    cv2 = arrays.cv2()
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if min(grey.shape) < 3:
        return 0.0
    response = cv2.filter2D(grey, -1, _IMMERKAER)[1:-1, 1:-1]
    return float(math.sqrt(math.pi / 2) * np.abs(response).mean() / 6)


def filter_strengths(s: Settings, sigma: float) -> dict[str, float]:
    """h (lightness) and hColor (chroma) in 8-bit levels, from the measured sigma."""
    h = max(sigma, _MIN_SIGMA) * s.strength / 50
    return {"h": round(h, 2), "hColor": round(h * s.colorNoise / 50, 2)}


def engine(s: Settings, f: dict[str, float]) -> str:
    version = arrays.cv2().__version__
    if s.quality == "fast":
        return f"OpenCV {version} bilateralFilter (sigmaColor={2 * f['h']:g}) + medianBlur"
    extra = " + chroma medianBlur" if s.quality == "best" else ""
    patch, search = _WINDOWS[s.quality]
    return (
        f"OpenCV {version} fastNlMeansDenoisingColored "
        f"(h={f['h']:g}, hColor={f['hColor']:g}, patch {patch}, search {search}){extra}"
    )


def denoise(
    rgb: np.ndarray, s: Settings, sigma: float, rows_done: RowsDone | None = None
) -> np.ndarray:
    """The chosen tier on an 8-bit RGB array. Non-local means runs in strips of rows,
    calling `rows_done(rows, total)` after each (progress, and a place to cancel)."""
    cv2 = arrays.cv2()
    f = filter_strengths(s, sigma)
    if f["h"] <= 0:
        return rgb
    if s.quality == "fast":
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
        lab[..., 0] = cv2.bilateralFilter(lab[..., 0], 5, 2 * f["h"], 3)
        return _chroma_median(cv2, cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), f["hColor"])
    # hColor 0 would divide by zero inside OpenCV: a tiny value changes nothing instead.
    cleaned = _nlm_in_strips(rgb, f["h"], max(f["hColor"], 0.01), s.quality, rows_done)
    return _chroma_median(cv2, cleaned, f["hColor"]) if s.quality == "best" else cleaned


def _nlm_in_strips(
    rgb: np.ndarray, h: float, h_color: float, tier: str, rows_done: RowsDone | None
) -> np.ndarray:
    """fastNlMeansDenoisingColored strip by strip. Each strip is read with a margin of the
    search and patch radii, the reach of every output pixel, so the result is identical to
    one call on the whole image (which OpenCV also pads); the margins cost ~5 % more work."""
    cv2 = arrays.cv2()
    patch, search = _WINDOWS[tier]
    margin = search // 2 + patch // 2
    height = rgb.shape[0]
    rows = max(_STRIP_ROWS, -(-height // 16))  # at most 16 strips
    out = np.empty_like(rgb)
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        low, high = max(0, top - margin), min(height, bottom + margin)
        part = cv2.fastNlMeansDenoisingColored(
            np.ascontiguousarray(rgb[low:high]), None, h, h_color, patch, search
        )
        out[top:bottom] = part[top - low : top - low + bottom - top]
        if rows_done is not None:
            rows_done(bottom, height)
    return out


def _chroma_median(cv2: ModuleType, rgb: np.ndarray, h_color: float) -> np.ndarray:
    """A median over the CIELAB a/b bands: colour blotches go, edges in lightness stay."""
    if h_color <= 0:
        return rgb
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    size = 3 if h_color < 8 else 5
    for band in (1, 2):
        lab[..., band] = cv2.medianBlur(np.ascontiguousarray(lab[..., band]), size)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def keep_edges(original: np.ndarray, cleaned: np.ndarray, percent: float) -> np.ndarray:
    """Blend the original back where the denoised image has edges, by up to `percent`."""
    if percent <= 0:
        return cleaned
    cv2 = arrays.cv2()
    grey = cv2.cvtColor(cleaned, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gradient = cv2.magnitude(cv2.Sobel(grey, -1, 1, 0), cv2.Sobel(grey, -1, 0, 1)) / 4
    weight = np.clip(cv2.GaussianBlur(gradient, (0, 0), 1.0) / _EDGE_LEVELS, 0, 1)
    weight = (weight * (percent / 100))[..., None]
    mixed = cleaned + (original.astype(np.float32) - cleaned) * weight
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


TOOL = Tool(
    id="noise-removal",
    name="Noise Removal",
    category="enhancement",
    description="Remove grain and colour noise with classic denoisers: bilateral (fast) "
    "or OpenCV non-local means (balanced, best); alpha kept.",
    settings=Settings,
    run=run,
    inline=False,
)
