"""Analysis-based auto enhancement: measure the image, then correct only what is off.

Measured on a 512 px thumbnail (sharpness on a full-resolution 512 px centre crop):
luminance percentiles and mean (Rec. 709 luma), the colour of the brightest unclipped
pixels and the gray-world channel means, mean saturation (HSV), and sharpness as the
variance of the Laplacian of the luma. Then, each only when its measure is out of range
and scaled by `strength` (0 = no change, 100 = full correction), in this order:

1. `whiteBalance` (modes auto, color): per-channel gains that make the brightest 5% of
   unclipped pixels neutral (white patch on bright pixels). Gray-world means are
   reported but not used: a warm scene (coffee, sunset) is not a colour cast, while its
   white cup or highlights show the light's colour. Only casts over 15% are corrected;
   gains are capped at 0.75..1.33.
2. `levels` (auto, contrast): stretch the 0.5/99.5 percentiles to black and white.
3. `exposure` (auto, exposure): a gamma that brings the mean luma to 0.45.
4. `saturation` (auto, color): chroma (CIELAB) up to x1.5 for dull colours.
5. `sharpness` (auto, sharpness): libvips adaptive sharpen when the image is soft.

The output's extras say what was measured and what was corrected (with the values), or
`"summary": "nothing to correct"`. Alpha is never changed; 16-bit stays 16-bit.
Limits: the first page/frame only; RGB is treated as sRGB (see `tools.colour`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pyvips
from pydantic import Field

from tools import arrays, colour, imaging
from tools.base import Context, Output, Source, Tool
from tools.fields import ImageOutputSettings

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
_ANALYSIS_SIZE = 512
# A bright-pixel channel off the neutral mean by more than 15% is a cast. Less is left
# alone: mild warmth is usually the scene's light (both test photos show ~10%).
_CAST_LIMIT = 0.15
_GAIN_RANGE = (0.75, 1.33)
_LEVELS_LIMIT = 0.03  # black above 3% or white below 97% of full scale: stretch
_EXPOSURE_RANGE = (0.35, 0.65)  # mean luma outside this: gamma
_EXPOSURE_TARGET = 0.45
_GAMMA_RANGE = (0.4, 2.5)
_DULL = 0.2  # mean HSV saturation below this: boost chroma
_GREY = 0.03  # ... unless the image is (nearly) grey
_SOFT = 100.0  # Laplacian variance (8-bit levels^2) below this: sharpen
_MODES = {
    "auto": {"whiteBalance", "levels", "exposure", "saturation", "sharpness"},
    "exposure": {"exposure"},
    "contrast": {"levels"},
    "color": {"whiteBalance", "saturation"},
    "sharpness": {"sharpness"},
}


class Settings(ImageOutputSettings):
    """What to look at (`mode`) and how far to correct it (`strength`)."""

    mode: Literal["auto", "exposure", "contrast", "color", "sharpness"] = Field(
        "auto", description="auto corrects everything that is off; the others one aspect."
    )
    strength: float = Field(75, ge=0, le=100, description="0 changes nothing, 100 fully.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Measure one image, correct what is out of range, report both in `extras`."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    parts = colour.split(imaging.load(source, ctx.max_megapixels))
    ctx.progress(20, "analysing")
    measured = analyse(parts)
    corrections = plan(parts, measured, settings)
    ctx.progress(40, "correcting")
    rgb = apply(parts, corrections)
    output = imaging.write_image(
        colour.join(parts, rgb), ctx, fmt, source, quality=settings.quality
    )
    output.engine = f"analysis-based enhancement (numpy) + {output.engine}"
    summary = ", ".join(corrections) if corrections else "nothing to correct"
    output.extras = {"measured": measured, "corrected": corrections, "summary": summary}
    return output


def _thumbnail(parts: colour.Split) -> np.ndarray:
    """The colour bands at most 512 px wide/high, as float 0..1."""
    image = parts.colour
    scale = min(1.0, _ANALYSIS_SIZE / max(image.width, image.height))
    if scale < 1:
        image = image.resize(scale)
    return arrays.to_array(image).astype(np.float32) / parts.peak


def analyse(parts: colour.Split) -> dict[str, Any]:
    """The measures the corrections are decided on (floats rounded for the report)."""
    rgb = _thumbnail(parts)
    return {
        **_tones(rgb),
        "grayWorld": _ratios(rgb.reshape(-1, 3).mean(axis=0)),
        "brightPixels": _bright_pixels(rgb),
        "saturation": round(float(_saturation(rgb).mean()), 3),
        "sharpness": round(_sharpness(parts), 1),
    }


def _tones(rgb: np.ndarray) -> dict[str, float]:
    luma = rgb @ _LUMA
    low, high = np.percentile(rgb.reshape(-1, 3), [0.5, 99.5], axis=0)
    return {
        "meanLuma": round(float(luma.mean()), 3),
        "p1": round(float(np.percentile(luma, 1)), 3),
        "p99": round(float(np.percentile(luma, 99)), 3),
        "black": round(float(low.min()), 3),
        "white": round(float(high.max()), 3),
    }


def _ratios(means: np.ndarray) -> list[float]:
    """Channel means over their average: [1, 1, 1] is neutral."""
    average = float(means.mean())
    if average <= 0:
        return [1.0, 1.0, 1.0]
    return [round(float(m) / average, 3) for m in means]


def _bright_pixels(rgb: np.ndarray) -> list[float] | None:
    """Colour ratios of the brightest 5% of pixels with no clipped channel (or None)."""
    pixels = rgb.reshape(-1, 3)
    pixels = pixels[pixels.max(axis=1) < 0.98]
    if len(pixels) < 100:
        return None
    luma = pixels @ _LUMA
    return _ratios(pixels[luma >= np.percentile(luma, 95)].mean(axis=0))


def _saturation(rgb: np.ndarray) -> np.ndarray:
    high, low = rgb.max(axis=2), rgb.min(axis=2)
    return np.where(high > 0, (high - low) / np.maximum(high, 1e-6), 0)


def _sharpness(parts: colour.Split) -> float:
    """Variance of the 4-neighbour Laplacian of the luma (8-bit levels) in a 512 px
    centre crop at full resolution: downscaling would make any image look sharp."""
    image = parts.colour
    width, height = min(image.width, _ANALYSIS_SIZE), min(image.height, _ANALYSIS_SIZE)
    crop = image.crop((image.width - width) // 2, (image.height - height) // 2, width, height)
    luma = (arrays.to_array(crop).astype(np.float32) / parts.peak * 255) @ _LUMA
    if min(luma.shape) < 3:
        return 0.0
    centre = luma[1:-1, 1:-1]
    lap = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:] - 4 * centre
    return float(lap.var())


def plan(parts: colour.Split, m: dict[str, Any], s: Settings) -> dict[str, Any]:
    """Decide the corrections, each re-measured on the thumbnail after the previous one."""
    wanted, k = _MODES[s.mode], s.strength / 100
    if k == 0:
        return {}
    rgb = _thumbnail(parts)
    found: dict[str, Any] = {}
    if "whiteBalance" in wanted and (gains := _white_balance(m["brightPixels"], k)):
        found["whiteBalance"] = {"gains": gains}
        rgb = np.clip(rgb * np.array(gains, dtype=np.float32), 0, 1)
    if "levels" in wanted and (levels := _levels(_tones(rgb), k)):
        found["levels"] = levels
        rgb = np.clip((rgb - levels["black"]) / (levels["white"] - levels["black"]), 0, 1)
    if "exposure" in wanted and (gamma := _gamma(float((rgb @ _LUMA).mean()), k)):
        found["exposure"] = {"gamma": gamma}
    if "saturation" in wanted and (factor := _chroma_factor(m["saturation"], k)):
        found["saturation"] = {"factor": factor}
    if "sharpness" in wanted and m["sharpness"] < _SOFT:
        found["sharpness"] = {"amount": round(2 * k, 2)}
    return found


def _white_balance(bright: list[float] | None, k: float) -> list[float] | None:
    if bright is None or max(abs(r - 1) for r in bright) <= _CAST_LIMIT:
        return None
    low, high = _GAIN_RANGE
    return [round(1 + (min(max(1 / r, low), high) - 1) * k, 3) for r in bright]


def _levels(tones: dict[str, float], k: float) -> dict[str, float] | None:
    black, white = tones["black"], tones["white"]
    if (black <= _LEVELS_LIMIT and white >= 1 - _LEVELS_LIMIT) or white - black < 0.1:
        return None  # already full range, or a flat image a stretch would only make noisy
    return {"black": round(black * k, 3), "white": round(1 - (1 - white) * k, 3)}


def _gamma(mean: float, k: float) -> float | None:
    low, high = _EXPOSURE_RANGE
    if low <= mean <= high or not 0 < mean < 1:
        return None
    gamma = math.log(_EXPOSURE_TARGET) / math.log(mean)
    gamma = min(max(gamma, _GAMMA_RANGE[0]), _GAMMA_RANGE[1])
    return round(1 + (gamma - 1) * k, 3)


def _chroma_factor(saturation: float, k: float) -> float | None:
    if saturation >= _DULL or saturation < _GREY:
        return None
    return round(1 + (min(1.5, _DULL * 1.25 / saturation) - 1) * k, 3)


def apply(parts: colour.Split, c: dict[str, Any]) -> pyvips.Image:
    """The planned corrections on the full image, in the planned order."""
    rgb = parts.colour
    if not c:
        return rgb
    x = rgb.cast("float") / parts.peak
    if "whiteBalance" in c:
        x = x * c["whiteBalance"]["gains"]
    if "levels" in c:
        black, white = c["levels"]["black"], c["levels"]["white"]
        x = (x - black) / (white - black)
    if "exposure" in c:
        x = x.clamp(min=0, max=1) ** c["exposure"]["gamma"]
    rgb = (x * parts.peak).clamp(min=0, max=parts.peak)
    if "saturation" in c:
        lab = colour.to_lab(rgb, parts.interpretation)
        factor = c["saturation"]["factor"]
        rgb = colour.from_lab(lab[0].bandjoin([lab[1] * factor, lab[2] * factor]), parts)
    if "sharpness" in c:
        tagged = rgb.copy(interpretation=parts.interpretation)
        rgb = tagged.sharpen(sigma=1.0, m1=0, m2=c["sharpness"]["amount"])
    return rgb


TOOL = Tool(
    id="image-enhancement",
    name="Image Enhancement",
    category="enhancement",
    description="Measure exposure, contrast, colour cast, saturation and sharpness, and "
    "correct only what is off (levels, gamma, white balance, chroma, sharpening); "
    "reports what it measured and changed.",
    settings=Settings,
    run=run,
)
