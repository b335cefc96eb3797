"""Smart crop: cut an image around what matters in it, then size it.

Three modes (one settings model each):

- `subject`: what MediaPipe's selfie segmenter marks (a 0..1 mask): a person, and in
  practice the main foreground of a close shot too (a cup, a cat). When it marks
  (almost) nothing (under 0.5 % of the image above 0.5), a classical saliency map
  stands in: the spectral residual (Hou & Zhang 2007, numpy FFT on a 64x64 grey copy,
  OpenCV blur), thresholded at 3x its mean as in the paper; the output's credit and
  `extras.subject` ("segmenter" or "saliency") say which. The crop window is the
  smallest of the requested aspect containing the subject's box (its 1st..99th
  percentile of mass) grown by `padding`; when that does not fit, the largest window
  that fits, at the position keeping the most subject weight (within 0.5 %: the one
  centred on the subject). A segmented subject weighs more at its top (`head_first`),
  so a window too short for a person keeps the head rather than the wider body.
- `face`: the best face (MediaPipe short-range detector, then the full-range one, when
  installed, if it finds none), framed by `facePreset` (FRAMING below: window height
  in face heights, where the face sits, and the aspect used when width/height do not
  give one). No face is 422 NO_FACE_FOUND.
- `trim`: borders of one colour removed (libvips find_trim; no model): the background
  is the median colour of the four corners, `threshold` in 8-bit levels; an image with
  transparent corners is trimmed on its alpha. Nothing to trim gives the image back.

`width` and `height` (subject, face): both given, the crop has their aspect and is then
resized to exactly that size; one given, the crop keeps its own aspect and is scaled to
it. `padding` grows the window by that fraction of its size on every side (then fitted
to the image). Alpha, ICC profile and 16-bit depth are kept (cropping and Lanczos
resizing in libvips). `extras.crop` is the box cut from the (EXIF-rotated) image.
Limits: the first page/frame only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pyvips
from pydantic import Field

from tools import arrays, colour, imaging
from tools.ai import mediapipe_tasks
from tools.ai.credit import Run, credit
from tools.arrays import Box
from tools.base import Context, Output, Source, Tool, ToolSettings
from tools.fields import ImageFormat, ModeSettings, Quality


@dataclass(frozen=True)
class Framing:
    """A face preset: the window's height in face-box heights, the height of the face's
    centre from the window's top (fraction), and the aspect (w/h) when none is asked."""

    height: float
    face_y: float
    aspect: float


# MediaPipe's face box runs about from the brows to the chin.
FRAMING = {
    "close-up": Framing(height=2.2, face_y=0.5, aspect=1.0),
    "head-and-shoulders": Framing(height=3.2, face_y=0.42, aspect=4 / 5),
    "upper-body": Framing(height=5.0, face_y=0.3, aspect=4 / 5),
    "half-body": Framing(height=7.0, face_y=0.22, aspect=3 / 4),
}
_PERSON_SHARE = 0.005  # less of the image than this above 0.5: no person
_WEIGHT_SIDE = 256  # the window search runs on a weight map this long
_SALIENCY_SIDE = 64  # Hou & Zhang's working size
_HEAD_FIRST = 3.0  # a person's bottom row weighs exp(-3) ~ 5 % of the top one


class _Output(ToolSettings):
    format: ImageFormat | None = Field(None, description="Default: the input's format.")
    quality: Quality | None = None
    padding: float = Field(0, ge=0, le=1, description="Grow the window by this fraction.")


class _Sized(_Output):
    width: int | None = Field(None, ge=1, le=16383, description="Output width, px.")
    height: int | None = Field(None, ge=1, le=16383, description="Output height, px.")


class SubjectCrop(_Sized):
    """Keep the person (selfie segmenter), or the most salient part when there is none."""

    mode: Literal["subject"] = "subject"


class FaceCrop(_Sized):
    """Frame the best face as `facePreset` says."""

    mode: Literal["face"]
    facePreset: Literal["close-up", "head-and-shoulders", "upper-body", "half-body"] = Field(
        "head-and-shoulders", description="How much around the face to keep."
    )


class TrimCrop(_Output):
    """Cut away borders of one colour (no model)."""

    mode: Literal["trim"]
    threshold: float = Field(10, ge=0, le=255, description="Colour distance, 8-bit levels.")


Mode = SubjectCrop | FaceCrop | TrimCrop


class Settings(ModeSettings[Annotated[Mode, Field(discriminator="mode")]]):
    """subject (default), face or trim; see the module docstring."""

    default_mode = "subject"


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Find the crop box by the mode, cut it, size it; see the module docstring."""
    s = settings.root
    source = inputs[0]
    fmt = imaging.output_format(s.format, source.format)
    ctx.progress(2, "decoding")
    image = imaging.load(source, ctx.max_megapixels)
    ctx.progress(10, f"finding the crop ({s.mode})")
    ctx.check_cancelled()
    if isinstance(s, TrimCrop):
        box = arrays.grow_box(trim_box(image, s.threshold), s.padding, image.width, image.height)
        runs: list[Run] = []
        found = "trim"
    else:
        rgb = arrays.eight_bit(arrays.to_array(colour.split(image).colour))
        box, runs, found = (
            face_box(ctx, rgb, s) if isinstance(s, FaceCrop) else subject_box(ctx, rgb, s)
        )
    ctx.progress(60, "cropping")
    ctx.check_cancelled()
    cropped = image.crop(*box)
    if not isinstance(s, TrimCrop):
        cropped = _sized(cropped, s.width, s.height, ctx)
    output = imaging.write_image(cropped, ctx, fmt, source, quality=s.quality)
    left, top, w, h = box
    output.extras = {
        "crop": {"left": left, "top": top, "width": w, "height": h},
        "subject": found,
    }
    return credit(output, [*runs, Run(engine=output.engine)])


# --- subject ----------------------------------------------------------------------------


def subject_box(ctx: Context, rgb: np.ndarray, s: SubjectCrop) -> tuple[Box, list[Run], str]:
    """The window over the person, or over the salient part when there is no person."""
    mask, described = mediapipe_tasks.segment_person(ctx, rgb)
    runs = [Run.of(described)]
    if (mask > 0.5).mean() >= _PERSON_SHARE:
        weights = np.where(mask > 0.5, mask, 0).astype(np.float32)
        placement = head_first(weights)
        found = "segmenter"
    else:
        ctx.progress(30, "no person found: using saliency")
        weights = saliency(rgb)
        weights = np.where(weights >= 3 * weights.mean(), weights, 0).astype(np.float32)
        placement = weights
        runs.append(Run(engine=_saliency_engine()))
        found = "saliency"
    aspect = s.width / s.height if s.width and s.height else None
    return window(weights, aspect, s.padding, placement), runs, found


def head_first(weights: np.ndarray) -> np.ndarray:
    """Weights falling from 1 at the top of the subject to exp(-_HEAD_FIRST) at its
    bottom: a window too short for the whole person keeps the head, not the body (which
    is several times wider, so it would hold more plain mask weight)."""
    top, bottom = _mass_range(weights.sum(axis=1))
    rows = np.arange(weights.shape[0], dtype=np.float32)
    where = np.clip((rows - top) / max(bottom - top, 1.0), 0, 1)
    return weights * np.exp(-_HEAD_FIRST * where)[:, None]


def window(
    weights: np.ndarray, aspect: float | None, padding: float, placement: np.ndarray | None = None
) -> Box:
    """The smallest window of `aspect` around the weights' box (grown by `padding`), or
    the largest that fits, placed to hold the most `placement` weight (default: the
    weights); see the module docstring."""
    height, width = weights.shape
    if weights.sum() <= 0:
        return 0, 0, width, height
    x0, x1 = _mass_range(weights.sum(axis=0))
    y0, y1 = _mass_range(weights.sum(axis=1))
    bw, bh = (x1 - x0) * (1 + 2 * padding), (y1 - y0) * (1 + 2 * padding)
    aspect = aspect or bw / bh
    ww = max(bw, bh * aspect)
    wh = ww / aspect
    fit = min(1.0, width / ww, height / wh)
    ww, wh = max(1, min(width, round(ww * fit))), max(1, min(height, round(wh * fit)))
    placement = weights if placement is None else placement
    left, top = _best_position(placement, ww, wh, ((x0 + x1) / 2, (y0 + y1) / 2))
    return left, top, ww, wh


def _mass_range(profile: np.ndarray) -> tuple[float, float]:
    """Where the 1st and 99th percentiles of a 1-D weight profile fall (pixel edges)."""
    cumulative = np.cumsum(profile) / profile.sum()
    low = int(np.searchsorted(cumulative, 0.01))
    high = int(np.searchsorted(cumulative, 0.99)) + 1
    return float(low), float(min(high, len(profile)))


def _best_position(
    weights: np.ndarray, ww: int, wh: int, centre: tuple[float, float]
) -> tuple[int, int]:
    """Top-left of the ww x wh window holding the most weight (within 0.5 %), the one
    nearest to centring `centre` among those; searched on a map of _WEIGHT_SIDE px."""
    height, width = weights.shape
    f = max(width, height) / _WEIGHT_SIDE if max(width, height) > _WEIGHT_SIDE else 1.0
    small = weights
    if f > 1:
        size = (max(1, round(width / f)), max(1, round(height / f)))
        small = arrays.cv2().resize(weights, size, interpolation=arrays.cv2().INTER_AREA)
    sh, sw = small.shape
    kw, kh = min(sw, max(1, round(ww / f))), min(sh, max(1, round(wh / f)))
    table = np.pad(small.astype(np.float64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = table[kh:, kw:] - table[:-kh, kw:] - table[kh:, :-kw] + table[:-kh, :-kw]
    ys, xs = np.nonzero(sums >= sums.max() * 0.995)
    lefts = np.clip(np.rint(xs * f), 0, width - ww)
    tops = np.clip(np.rint(ys * f), 0, height - wh)
    ideal_left, ideal_top = centre[0] - ww / 2, centre[1] - wh / 2
    best = int(np.argmin((lefts - ideal_left) ** 2 + (tops - ideal_top) ** 2))
    return int(lefts[best]), int(tops[best])


def saliency(rgb: np.ndarray) -> np.ndarray:
    """Spectral-residual saliency (Hou & Zhang 2007), 0..1, at the image's size."""
    cv2 = arrays.cv2()
    height, width = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    small = cv2.resize(grey, (_SALIENCY_SIDE, _SALIENCY_SIDE), interpolation=cv2.INTER_AREA)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-8).astype(np.float32)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    back = np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))
    sal = cv2.GaussianBlur((np.abs(back) ** 2).astype(np.float32), (5, 5), 8)
    sal = cv2.resize(sal, (width, height), interpolation=cv2.INTER_LINEAR)
    peak = float(sal.max())
    return sal / peak if peak > 0 else sal


def _saliency_engine() -> str:
    return (
        "spectral-residual saliency (Hou & Zhang 2007), numpy FFT + "
        f"OpenCV {arrays.cv2().__version__}; no person found"
    )


# --- face -------------------------------------------------------------------------------


def face_box(ctx: Context, rgb: np.ndarray, s: FaceCrop) -> tuple[Box, list[Run], str]:
    """The best face, framed by the preset; 422 NO_FACE_FOUND when there is none."""
    faces, described = mediapipe_tasks.find_faces(ctx, rgb, looking_for="face to crop to")
    runs = [Run.of(d) for d in described]
    height, width = rgb.shape[:2]
    frame = FRAMING[s.facePreset]
    aspect = s.width / s.height if s.width and s.height else frame.aspect
    x, y, w, h = faces[0].box
    wh = h * frame.height * (1 + 2 * s.padding)
    ww = wh * aspect
    top = y + h / 2 - frame.face_y * wh
    return _fitted((x + w / 2 - ww / 2, top, ww, wh), width, height), runs, "face"


def _fitted(box: tuple[float, float, float, float], width: int, height: int) -> Box:
    """A float box shrunk (keeping its aspect and centre) to fit the image, then moved
    inside it, in whole pixels."""
    left, top, w, h = box
    fit = min(1.0, width / w, height / h)
    cx, cy = left + w / 2, top + h / 2
    w, h = w * fit, h * fit
    iw, ih = max(1, min(width, round(w))), max(1, min(height, round(h)))
    il = int(np.clip(round(cx - w / 2), 0, width - iw))
    it = int(np.clip(round(cy - h / 2), 0, height - ih))
    return il, it, iw, ih


# --- trim and sizing --------------------------------------------------------------------


def trim_box(image: pyvips.Image, threshold: float) -> Box:
    """The box inside uniform borders (libvips find_trim against the corners' colour)."""
    deep = image.format == "ushort"
    scale = 257 if deep else 1
    corners = [
        image.crop(x, y, 1, 1).getpoint(0, 0)
        for x in (0, image.width - 1)
        for y in (0, image.height - 1)
    ]
    background = list(np.median(np.array(corners), axis=0))
    if image.hasalpha() and background[-1] == 0:
        alpha = image[image.bands - 1]
        found = alpha.find_trim(threshold=threshold * scale, background=[0])
    else:
        bands = image.bands - 1 if image.hasalpha() else image.bands
        found = image.extract_band(0, n=bands).find_trim(
            threshold=threshold * scale, background=background[:bands]
        )
    left, top, w, h = (int(v) for v in found)
    if w <= 0 or h <= 0:  # all one colour: nothing to keep apart from the background
        return 0, 0, image.width, image.height
    return left, top, w, h


def _sized(image: pyvips.Image, width: int | None, height: int | None, ctx: Context) -> Any:
    """Resize to width x height (both), or scale to the one given (Lanczos3)."""
    if width is None and height is None:
        return image
    if width is None:
        width = max(1, round(image.width * height / image.height))
    if height is None:
        height = max(1, round(image.height * width / image.width))
    imaging.check_pixels(width, height, ctx.max_megapixels, "the cropped image")
    hscale, vscale = width / image.width, height / image.height
    if image.hasalpha():
        fmt = image.format
        resized = image.premultiply().resize(hscale, vscale=vscale, kernel="lanczos3")
        resized = resized.unpremultiply().cast(fmt)
    else:
        resized = image.resize(hscale, vscale=vscale, kernel="lanczos3")
    if (resized.width, resized.height) != (width, height):  # rounding inside libvips
        resized = resized.gravity("centre", width, height, extend="copy")
    return resized


TOOL = Tool(
    id="smart-crop",
    name="Smart Crop",
    category="ai",
    description="Crop around the person (or the most salient part), a face framed as a "
    "portrait preset, or away uniform borders; then size it.",
    settings=Settings,
    run=run,
    models=(mediapipe_tasks.SEGMENTER, mediapipe_tasks.SHORT_RANGE, mediapipe_tasks.FULL_RANGE),
    # subject needs the segmenter, face the short-range detector (full range: a second
    # try when installed); trim needs none.
    needs=((mediapipe_tasks.SEGMENTER,), (mediapipe_tasks.SHORT_RANGE,)),
    inline=False,
)
