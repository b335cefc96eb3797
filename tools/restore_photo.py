"""Photo restoration: a pipeline of steps for old, scratched, noisy or faded photos.

Steps, in order; each is listed in the output's `extras["steps"]` with the engine that
ran, or `ran: false` and why it was skipped (never silently):

1. scratch-removal (`scratchRemoval`): thin bright or dark lines found classically, then
   filled. Detection: a morphological white top-hat and black-hat of the luma (what is
   brighter / darker than its surroundings and thinner than the kernel, which grows with
   the image), opened along 12 orientations with a 21 px line (only line-like structure
   survives: texture and dots go), kept where the line is long (a connected run of at
   least max(63 px, 1/8 of the short side); 1/12 in heavy mode), grown back along the
   weaker response beside it, dilated by 1 px (2 in heavy). Filling: LaMa when the `lama`
   model is installed, else OpenCV's Telea inpainting (named as such).
2. denoise (`denoise`): tools.noise_removal's own functions (noise measured first, then
   bilateral (light), non-local means (auto) or the `best` tier (heavy)) at
   `denoiseStrength`, by default 30 / 50 / 70 for light / auto / heavy.
3. face-enhancement (`faceEnhancement`): tools.enhance_faces' function with GFPGAN v1.4,
   or CodeFormer when only it is installed; skipped, saying which model to install, when
   neither is. `fidelity` (0..1) keeps faces closer to the photo: CodeFormer's weight,
   and for GFPGAN the blend 1 - fidelity / 2 (times 0.7 in light mode). A photo without
   a face is fine: the step says no face was found.
4. colorize (`colorize`, off by default): tools.ai.ddcolor when asked and installed,
   skipped with the reason otherwise.

`mode`: light is conservative (only high-contrast scratches), heavy finds fainter and
shorter ones and denoises harder; auto sits between. Alpha is kept; 16-bit images keep
their depth where nothing changed. Limits: the first page/frame; scratch detection also
takes other long thin bright/dark lines (wires, thin highlights) for scratches; wide
tears and missing corners need erase-object with a mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np
from pydantic import Field

from tools import arrays, enhance_faces, erase_object, imaging, noise_removal
from tools.ai import ddcolor, face_restore, install, lama, mediapipe_tasks, rgb8
from tools.ai.credit import Run, credit
from tools.base import Context, Output, Source, Tool, ToolError
from tools.fields import ImageOutputSettings

_LINE = 21  # px: the oriented line a scratch must contain
_ORIENTATIONS = 12


@dataclass(frozen=True)
class Profile:
    """What a mode means for each step."""

    scratch_level: int  # top-hat response (8-bit levels) along the line
    min_length: float  # of the short side
    grow: int  # px the scratch mask is dilated by
    denoise_quality: Literal["fast", "balanced", "best"]
    denoise_strength: float
    face_blend: float  # GFPGAN's blend before fidelity


PROFILES = {
    "light": Profile(70, 1 / 8, 1, "fast", 30, 0.7),
    "auto": Profile(55, 1 / 8, 1, "balanced", 50, 1.0),
    "heavy": Profile(40, 1 / 12, 2, "best", 70, 1.0),
}


class Settings(ImageOutputSettings):
    """Which steps run, and how hard."""

    mode: Literal["auto", "light", "heavy"] = Field("auto", description="How hard each step works.")
    scratchRemoval: bool = Field(True, description="Find and fill thin scratches.")
    faceEnhancement: bool = Field(True, description="Restore faces (GFPGAN / CodeFormer).")
    fidelity: float = Field(0.5, ge=0, le=1, description="Faces: 1 keeps closest to the photo.")
    denoise: bool = Field(True, description="Remove grain and noise.")
    denoiseStrength: float | None = Field(
        None, ge=0, le=100, description="Default by mode: light 30, auto 50, heavy 70."
    )
    colorize: bool = Field(False, description="Colourise with DDColor (when installed).")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Run the restoration steps in order; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    profile = PROFILES[settings.mode]
    ctx.progress(2, "decoding")
    work = rgb8.load(source, ctx)
    pixels = work.rgb8
    steps: list[dict[str, Any]] = []
    runs: list[Run] = []
    plan = (
        (5, "scratch-removal", settings.scratchRemoval, _scratches),
        (30, "denoise", settings.denoise, _denoise),
        (50, "face-enhancement", settings.faceEnhancement, _faces),
        (75, "colorize", settings.colorize, _colorize),
    )
    for percent, name, wanted, step in plan:
        ctx.check_cancelled()
        ctx.progress(percent, name)
        if not wanted:
            steps.append({"step": name, "ran": False, "why": "turned off in the settings"})
            continue
        pixels, report, done = step(ctx, pixels, settings, profile)
        steps.append({"step": name, **report})
        runs += done
    output = rgb8.write(work, pixels, ctx, fmt, source, settings.quality)
    output.extras = {"mode": settings.mode, "steps": steps}
    return credit(output, [*runs, Run(engine=output.engine)])


StepResult = tuple[np.ndarray, dict[str, Any], list[Run]]


def _scratches(ctx: Context, rgb: np.ndarray, s: Settings, p: Profile) -> StepResult:
    mask = find_scratches(rgb, p)
    found = int(mask.sum())
    if not found:
        return rgb, {"ran": False, "why": "no scratches found", "scratchPixels": 0}, []
    if install.is_installed(ctx.model_dir, lama.MODEL_ID):
        result, described = lama.inpaint(ctx, rgb, mask)
        run = Run.of(described)
    else:
        result, run = erase_object.opencv_inpaint(rgb, mask, "telea", 3)
    report = {"ran": True, "engine": run.engine, "model": run.model, "scratchPixels": found}
    if run.model is None:
        report["note"] = "LaMa (model lama) is not installed: OpenCV Telea filled the scratches"
    return result, report, [run]


def find_scratches(rgb: np.ndarray, p: Profile) -> np.ndarray:
    """(H, W) bool: the pixels of long thin lines brighter or darker than around them."""
    cv2 = arrays.cv2()
    # A white scratch is bright in every band, a dark one dark in every band: the top-hat
    # of the darkest band and the black-hat of the brightest see them over any colour.
    lowest, highest = rgb.min(axis=2), rgb.max(axis=2)
    short = min(lowest.shape)
    size = min(31, max(7, (short // 55) | 1))  # thicker than any scratch, thinner than detail
    blob = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    min_length = max(3 * _LINE, short * p.min_length)
    found = np.zeros(lowest.shape, bool)
    for operation, band in ((cv2.MORPH_TOPHAT, lowest), (cv2.MORPH_BLACKHAT, highest)):
        response = cv2.morphologyEx(band, operation, blob)
        along = np.zeros_like(response)
        for line in _line_kernels():
            np.maximum(along, cv2.morphologyEx(response, cv2.MORPH_OPEN, line), out=along)
        core = _long_runs((along > p.scratch_level).astype(np.uint8), min_length)
        beside = cv2.dilate(core.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        found |= core | (beside & (response > p.scratch_level / 2))
    if not found.any():
        return found
    grow = np.ones((2 * p.grow + 1, 2 * p.grow + 1), np.uint8)
    return cv2.dilate(found.astype(np.uint8), grow) > 0


def _long_runs(candidates: np.ndarray, min_length: float) -> np.ndarray:
    """The connected runs whose bounding box diagonal reaches `min_length`."""
    _, labels, stats, _ = arrays.cv2().connectedComponentsWithStats(candidates, connectivity=8)
    keep = np.hypot(stats[:, 2], stats[:, 3]) >= min_length
    keep[0] = False
    return np.asarray(keep[labels])


@cache
def _line_kernels() -> tuple[np.ndarray, ...]:
    """1 px lines of _LINE px through the centre, at _ORIENTATIONS angles over 180°."""
    cv2 = arrays.cv2()
    centre = _LINE // 2
    kernels = []
    for i in range(_ORIENTATIONS):
        angle = np.pi * i / _ORIENTATIONS
        dx, dy = np.cos(angle) * centre, np.sin(angle) * centre
        kernel = np.zeros((_LINE, _LINE), np.uint8)
        start = (round(centre - dx), round(centre - dy))
        cv2.line(kernel, start, (round(centre + dx), round(centre + dy)), 1, 1)
        kernels.append(kernel)
    return tuple(kernels)


def _denoise(ctx: Context, rgb: np.ndarray, s: Settings, p: Profile) -> StepResult:
    strength = p.denoise_strength if s.denoiseStrength is None else s.denoiseStrength
    options = noise_removal.Settings.model_validate(
        {"quality": p.denoise_quality, "strength": strength}
    )
    sigma = noise_removal.noise_sigma(rgb)
    cleaned = noise_removal.denoise(rgb, options, sigma)
    cleaned = noise_removal.keep_edges(rgb, cleaned, options.preserveDetail)
    engine = noise_removal.engine(options, noise_removal.filter_strengths(options, sigma))
    report = {"ran": True, "engine": engine, "noiseSigma": round(sigma, 2), "strength": strength}
    return cleaned, report, [Run(engine=engine)]


def _faces(ctx: Context, rgb: np.ndarray, s: Settings, p: Profile) -> StepResult:
    model_id = next(
        (m for m in face_restore.MODELS.values() if install.is_installed(ctx.model_dir, m)), None
    )
    if model_id is None:
        first = face_restore.MODELS["gfpgan"]
        why = f"model {first} is not installed (manage.py models install {first})"
        return rgb, {"ran": False, "why": why}, []
    model = face_restore.session(ctx, model_id)
    codeformer = model_id == face_restore.MODELS["codeformer"]
    blend = 1.0 if codeformer else p.face_blend * (1 - s.fidelity / 2)
    try:
        result, runs, count = enhance_faces.enhance(
            ctx, rgb, model, strength=blend, fidelity=s.fidelity, sensitivity=0.5
        )
    except ToolError as exc:  # the face detector itself is missing
        if exc.code != "MODEL_NOT_INSTALLED":
            raise
        return rgb, {"ran": False, "why": f"no face detector: {exc.message}"}, []
    if count == 0:
        return rgb, {"ran": False, "why": "no face found", "engine": runs[0].engine}, runs
    report = {"ran": True, "engine": runs[-1].engine, "model": model_id, "faces": count}
    return result, report, runs


def _colorize(ctx: Context, rgb: np.ndarray, s: Settings, p: Profile) -> StepResult:
    if not install.is_installed(ctx.model_dir, ddcolor.MODEL_ID):
        return rgb, {"ran": False, "why": ddcolor.not_installed_reason()}, []
    result, described = ddcolor.colorize(ctx, rgb, 1.0)
    run = Run.of(described)
    return result, {"ran": True, "engine": run.engine, "model": run.model}, [run]


TOOL = Tool(
    id="restore-photo",
    name="Photo Restoration",
    category="ai",
    description="Restore old photos step by step: scratch removal (LaMa or OpenCV), "
    "denoising, face enhancement (GFPGAN / CodeFormer) and optional colourising; "
    "each step says what ran or why it was skipped.",
    settings=Settings,
    run=run,
    models=(
        lama.MODEL_ID,
        *face_restore.MODELS.values(),
        mediapipe_tasks.SHORT_RANGE,
        ddcolor.MODEL_ID,
    ),
    needs=(),  # every step has a classical engine or is skipped, saying why
    inline=False,
)
