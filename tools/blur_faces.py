"""Blur faces: find every face with MediaPipe's face detector and hide it.

Faces come from `tools.ai.mediapipe_tasks.detect_faces` (short range by default;
`fullRange` uses the full-range model, for groups and distant faces, which also searches
big images in tiles). `sensitivity` 0..1 sets the detector's minimum score (0 -> 0.8,
0.5 -> 0.5, 1 -> 0.2): higher finds more faces, and more false ones. Each face box, grown
by `padding` (a fraction of its width/height on every side), is hidden by `mode`:

- `blur`: a Gaussian blur of sigma `blurRadius` px (OpenCV; over 8 px it runs on a
  copy shrunk to sigma 4 and is scaled back), computed with the pixels around the box
  so its edges stay soft, but written inside the box only;
- `pixelate`: blocks of `blurRadius` px (at least 2), each the mean of its pixels;
- `fill`: `fillColor` (its alpha blends it over the face).

Nothing outside the boxes changes. No face is not an error: the image comes back as it
was (re-encoded), with `faceCount` 0. The boxes found are in the output's extras
(`faces`, `faceCount`). Alpha is kept; 16-bit stays 16-bit (detection looks at 8 bits).
Limits: the first page/frame only; the detector misses faces in profile or very small
(under ~20 px with the short-range model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from tools import arrays, colour, imaging
from tools.ai import mediapipe_tasks
from tools.ai.credit import Run, credit
from tools.ai.mediapipe_tasks import Face
from tools.arrays import Box
from tools.base import Context, Output, Source, Tool
from tools.fields import HexColor, ImageOutputSettings, parse_color

_FINE_SIGMA = 4.0  # wider blurs run on a shrunk copy


class Settings(ImageOutputSettings):
    """How to hide faces, how hard to look for them, and how much around them to cover."""

    mode: Literal["blur", "pixelate", "fill"] = Field("blur", description="How to hide.")
    blurRadius: float = Field(
        30, ge=1, le=200, description="Blur sigma, or pixelate block size, in px."
    )
    sensitivity: float = Field(
        0.5, ge=0, le=1, description="Higher finds more faces (and more false ones)."
    )
    padding: float = Field(0.2, ge=0, le=1, description="Grow each box by this fraction.")
    fillColor: HexColor = Field("#000000", description="The colour of mode fill.")
    fullRange: bool = Field(False, description="Full-range detector: groups, distant faces.")


def min_score(sensitivity: float) -> float:
    """The detector's score threshold for a sensitivity 0..1."""
    return round(0.8 - 0.6 * sensitivity, 4)


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Find the faces and hide each padded box; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(2, "decoding")
    image = imaging.load(source, ctx.max_megapixels)
    parts = colour.split(image)
    pixels = arrays.to_array(parts.colour)
    ctx.progress(10, "finding faces")
    ctx.check_cancelled()
    faces, detector = mediapipe_tasks.detect_faces(
        ctx,
        arrays.eight_bit(pixels),
        min_score=min_score(settings.sensitivity),
        full_range=settings.fullRange,
    )
    height, width = pixels.shape[:2]
    for index, face in enumerate(faces, start=1):
        ctx.check_cancelled()
        hide(
            pixels, arrays.grow_box(face.box, settings.padding, width, height), settings, parts.peak
        )
        ctx.progress(20 + 45 * index / len(faces), f"hid face {index} of {len(faces)}")
    result = colour.join(parts, arrays.from_array(pixels, parts.interpretation, like=image))
    output = imaging.write_image(result, ctx, fmt, source, quality=settings.quality)
    output.extras = {"faces": [describe(f) for f in faces], "faceCount": len(faces)}
    runs = [Run.of(detector), Run(engine=_engine(settings)), Run(engine=output.engine)]
    return credit(output, runs)


def hide(pixels: np.ndarray, box: Box, s: Settings, peak: float) -> None:
    """Blur, pixelate or fill `box` of (H, W, 3) pixels in place."""
    x, y, w, h = box
    if w <= 0 or h <= 0:
        return
    if s.mode == "blur":
        pixels[y : y + h, x : x + w] = _blurred(pixels, box, s.blurRadius)
    elif s.mode == "pixelate":
        pixels[y : y + h, x : x + w] = _pixelated(pixels[y : y + h, x : x + w], s.blurRadius)
    else:
        r, g, b, a = parse_color(s.fillColor)
        region = pixels[y : y + h, x : x + w].astype(np.float32)
        fill = np.array([r, g, b], dtype=np.float32) * (peak / 255)
        mixed = region + (fill - region) * (a / 255)
        pixels[y : y + h, x : x + w] = np.clip(np.rint(mixed), 0, peak).astype(pixels.dtype)


def _blurred(pixels: np.ndarray, box: Box, sigma: float) -> np.ndarray:
    """The box's pixels blurred together with a 3-sigma margin of their surroundings."""
    x, y, w, h = box
    height, width = pixels.shape[:2]
    m = math.ceil(3 * sigma)
    x0, y0, x1, y1 = max(x - m, 0), max(y - m, 0), min(x + w + m, width), min(y + h + m, height)
    around = np.ascontiguousarray(pixels[y0:y1, x0:x1])
    return _gaussian(around, sigma)[y - y0 : y - y0 + h, x - x0 : x - x0 + w]


def _gaussian(pixels: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur; a wide one runs on a copy shrunk by sigma / _FINE_SIGMA (the
    same look: what it removes is finer than the shrunk grid), ~50x faster at sigma 30."""
    cv2 = arrays.cv2()
    height, width = pixels.shape[:2]
    factor = sigma / _FINE_SIGMA
    if factor <= 2 or min(height, width) / factor < 8:
        return cv2.GaussianBlur(pixels, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = cv2.resize(pixels, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), _FINE_SIGMA, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _pixelated(region: np.ndarray, block: float) -> np.ndarray:
    """Each block x block tile replaced by its mean (tiles anchored at the box's corner)."""
    cv2 = arrays.cv2()
    h, w = region.shape[:2]
    size = max(2, round(block))
    small = (max(1, math.ceil(w / size)), max(1, math.ceil(h / size)))
    # Pad to whole blocks (edge pixels repeated), average, then expand and cut back.
    full = np.pad(region, ((0, small[1] * size - h), (0, small[0] * size - w), (0, 0)), "edge")
    means = cv2.resize(np.ascontiguousarray(full), small, interpolation=cv2.INTER_AREA)
    whole = (small[0] * size, small[1] * size)
    expanded = cv2.resize(means, whole, interpolation=cv2.INTER_NEAREST)
    return expanded[:h, :w]


def describe(face: Face) -> dict[str, Any]:
    x, y, w, h = face.box
    return {"x": x, "y": y, "width": w, "height": h, "score": round(face.score, 3)}


def _engine(s: Settings) -> str:
    version = arrays.cv2().__version__
    if s.mode == "blur":
        return f"OpenCV {version} GaussianBlur (sigma {s.blurRadius:g} px)"
    if s.mode == "pixelate":
        return f"OpenCV {version} pixelate (blocks of {max(2, round(s.blurRadius))} px)"
    return f"numpy fill ({s.fillColor})"


TOOL = Tool(
    id="blur-faces",
    name="Blur Faces",
    category="ai",
    description="Find faces (MediaPipe) and blur, pixelate or fill them; the boxes found "
    "come back too. Nothing outside the faces changes.",
    settings=Settings,
    run=run,
    models=(mediapipe_tasks.SHORT_RANGE, mediapipe_tasks.FULL_RANGE),
    needs=((mediapipe_tasks.SHORT_RANGE,),),  # full range only with fullRange
    inline=False,
)
