"""Red-eye removal: find the eyes with MediaPipe's face detector, neutralise red pupils.

1. Faces from `tools.ai.mediapipe_tasks.detect_faces` (short range, then full range,
   when installed, if it finds none); no face is 422 NO_FACE_FOUND. Each face's two
   eye keypoints are the eye centres; `d`, the distance between them, sets every size
   below.
2. Around each eye, a square of half-side 0.3 d. A pixel is red when R / max(G, B) is
   over a threshold set by `sensitivity` (0 -> 2.5, 50 -> 2.0, 100 -> 1.5), R is over 40
   (not shadow), and its hue is within ~15 degrees of red towards orange and ~30 towards
   magenta: brown lashes, irises and skin have a high R / mean(G, B) too (little blue),
   but they lean orange; flash-lit pupils have G close to B.
3. The pupil mask is the red connected region (OpenCV, 8-connected) nearest the eye
   centre: it must come within 0.2 d of it and be at most a disc of radius 0.25 d in
   area (a larger red region is skin or a red object, not a pupil). Holes (the flash's
   highlight) are filled, and its edge is feathered by a Gaussian of 0.03 d (at least
   0.7 px).
4. Inside the mask, red is set to the mean of green and blue (G and B stay), blended by
   `strength` and the feathered mask. Pixels outside the feathered masks never change.

The eyes found are in the output's extras (`eyes`: centre, whether corrected, pixels in
the mask). Alpha is kept; 16-bit images are corrected in 16 bits. Limits: the first
page/frame only; eyes in faces the detector misses (profiles, tiny faces) are not seen;
golden/white "eye-shine" (pets) is not red and is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from tools import arrays, colour, imaging
from tools.ai import mediapipe_tasks
from tools.ai.credit import Run, credit
from tools.base import Context, Output, Source, Tool
from tools.fields import ImageOutputSettings

_REGION = 0.3  # half-side of the search square, in eye distances
_REACH = 0.2  # the pupil must come this close to the eye centre
_PUPIL = 0.25  # the largest pupil's radius
_FEATHER = 0.03
_DARK = 40 / 255  # red below this is shadow, not red-eye
# Hue limits as (G - B) / chroma: 0.25 is 15 degrees towards orange, 0.5 is 30 to magenta.
_TO_ORANGE = 0.25
_TO_MAGENTA = 0.5


class Settings(ImageOutputSettings):
    """How red a pupil must be to count, and how much of its red to take out."""

    sensitivity: float = Field(
        50, ge=0, le=100, description="Higher counts less red pupils as red-eye."
    )
    strength: float = Field(100, ge=0, le=100, description="How much of the red to remove.")


def threshold(sensitivity: float) -> float:
    """The R / max(G, B) ratio over which a pixel is red."""
    return 2.5 - 0.01 * sensitivity


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Find the eyes, then correct each red pupil; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(2, "decoding")
    image = imaging.load(source, ctx.max_megapixels)
    parts = colour.split(image)
    pixels = arrays.to_array(parts.colour)
    ctx.progress(10, "finding eyes")
    ctx.check_cancelled()
    rgb8 = arrays.eight_bit(pixels)
    faces, runs = _faces(ctx, rgb8)
    eyes = [
        (f.keypoints[side], _distance(f.keypoints["right_eye"], f.keypoints["left_eye"]))
        for f in faces
        for side in ("right_eye", "left_eye")
    ]
    report = []
    for index, (centre, distance) in enumerate(eyes, start=1):
        ctx.check_cancelled()
        report.append(correct_eye(pixels, centre, distance, settings, parts.peak))
        ctx.progress(20 + 45 * index / len(eyes), f"eye {index} of {len(eyes)}")
    result = colour.join(parts, arrays.from_array(pixels, parts.interpretation, like=image))
    output = imaging.write_image(result, ctx, fmt, source, quality=settings.quality)
    output.extras = {"eyes": report, "eyesCorrected": sum(1 for e in report if e["corrected"])}
    classical = Run(engine=f"redness mask + desaturation, OpenCV {arrays.cv2().__version__}")
    return credit(output, [*runs, classical, Run(engine=output.engine)])


def _faces(ctx: Context, rgb8: np.ndarray) -> tuple[list[Any], list[Run]]:
    faces, described = mediapipe_tasks.find_faces(ctx, rgb8, looking_for="eyes to correct")
    return faces, [Run.of(d) for d in described]


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def correct_eye(
    pixels: np.ndarray, centre: tuple[float, float], d: float, s: Settings, peak: float
) -> dict[str, Any]:
    """Desaturate the red pupil around `centre` in place; what was done, for the extras."""
    height, width = pixels.shape[:2]
    half = max(2, round(_REGION * d))
    cx, cy = round(centre[0]), round(centre[1])
    x0, y0 = max(cx - half, 0), max(cy - half, 0)
    x1, y1 = min(cx + half + 1, width), min(cy + half + 1, height)
    report: dict[str, Any] = {"x": round(centre[0], 1), "y": round(centre[1], 1)}
    if x1 <= x0 or y1 <= y0:
        return {**report, "corrected": False, "pixels": 0}
    region = pixels[y0:y1, x0:x1].astype(np.float32) / peak
    mask = pupil_mask(region, (centre[0] - x0, centre[1] - y0), d, threshold(s.sensitivity))
    if mask is None:
        return {**report, "corrected": False, "pixels": 0}
    soft = _feathered(mask, d) * (s.strength / 100)
    target = (region[..., 1] + region[..., 2]) / 2
    red = region[..., 0]
    region[..., 0] = red + (np.minimum(target, red) - red) * soft
    changed = np.clip(np.rint(region * peak), 0, peak).astype(pixels.dtype)
    where = soft > 0
    pixels[y0:y1, x0:x1][where] = changed[where]
    return {**report, "corrected": True, "pixels": int(mask.sum())}


def pupil_mask(
    region: np.ndarray, centre: tuple[float, float], d: float, ratio: float
) -> np.ndarray | None:
    """The red connected region nearest `centre` within reach and size, holes filled."""
    cv2 = arrays.cv2()
    r, g, b = region[..., 0], region[..., 1], region[..., 2]
    chroma = r - np.minimum(g, b)  # > 0 where red is the largest band
    red = (r > _DARK) & (r > ratio * np.maximum(g, b) + 1e-6)
    red &= (g - b < _TO_ORANGE * chroma) & (b - g < _TO_MAGENTA * chroma)
    count, labels = cv2.connectedComponents(red.astype(np.uint8), connectivity=8)
    if count <= 1:
        return None
    ys, xs = np.mgrid[0 : region.shape[0], 0 : region.shape[1]]
    near = np.hypot(xs - centre[0], ys - centre[1])
    largest = math.pi * (_PUPIL * d) ** 2
    best, best_reach = None, _REACH * d
    for label in range(1, count):
        inside = labels == label
        reach = float(near[inside].min())
        if reach <= best_reach and inside.sum() <= largest:
            best, best_reach = inside, reach
    return None if best is None else _filled(best)


def _filled(mask: np.ndarray) -> np.ndarray:
    """The mask with its holes filled (what the border cannot reach through background)."""
    cv2 = arrays.cv2()
    padded = np.pad(mask.astype(np.uint8), 1)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 1)
    holes = flood == 0
    return (padded.astype(bool) | holes)[1:-1, 1:-1]


def _feathered(mask: np.ndarray, d: float) -> np.ndarray:
    """0..1: the mask, its edge softened outwards (inside stays 1)."""
    sigma = max(_FEATHER * d, 0.7)
    soft = arrays.cv2().GaussianBlur(mask.astype(np.float32), (0, 0), sigma)
    soft = np.clip(soft * 2, 0, 1)
    soft[mask] = 1.0
    return soft


TOOL = Tool(
    id="red-eye-removal",
    name="Red-Eye Removal",
    category="ai",
    description="Find eyes with MediaPipe's face detector and take the red out of flash-lit "
    "pupils; nothing else changes.",
    settings=Settings,
    run=run,
    models=(mediapipe_tasks.SHORT_RANGE, mediapipe_tasks.FULL_RANGE),
    needs=((mediapipe_tasks.SHORT_RANGE,),),  # full range: a second try when installed
    inline=False,
)
