"""Upscale: enlarge an image 2, 3 or 4 times with a super-resolution network.

Models (`model`, catalog ids):

- `auto` (default): `realesrgan-x4plus` at every scale. The rule is by scale only, with no
  guess at the content: no simple test tells a photo from a drawing honestly. Why x4plus
  at x2/x3 too, run at x4 and reduced: it is the shipped model made for photos, and at x2
  it gives back the texture of the original. Measured on a 192² crop of chelsea.png (a
  cat) halved then enlarged x2, the mean gradient of the original is 15.95 and of the
  results: x4plus + Lanczos3 15.96, Real-CUGAN 11.0, animevideov3 9.35, bicubic 9.4
  (anime models paint fur flat). Its price is speed: about 18× the time of
  `realesr-animevideov3` on the CPU (see Speed).
- `realesrgan-x4plus`: photos, general purpose (native x4; ONNX Runtime).
- `realesrgan-x4plus-anime`: anime and illustrations (native x4; ONNX Runtime).
- `realesr-animevideov3`: anime and video frames, small and fast (native x2/x3/x4).
- `realcugan-se-conservative`: anime and illustrations, keeps detail (native x2/x3/x4;
  ncnn, see tools.ai.realcugan).

A model without the requested scale runs at its native x4 and libvips' Lanczos3 reduces
the result to the requested size; `extras["resampled"]` says so.

Settings: `scale` 2, 3 or 4 (default 2); `denoise` 0..1 (true means 0.5, false 0): none of
the shipped models takes a denoise strength (Real-ESRGAN's general-x4v3 and Real-CUGAN's
denoise files are not shipped), so a level above 0 runs the classic non-local means of
noise-removal first (OpenCV, `balanced` tier at strength 100 × level, credited as such);
`faceEnhance` needs a face restoration model (gfpgan-v1.4 or codeformer, downloads): 503
MODEL_NOT_INSTALLED naming it when neither is installed; with one, enhance-faces' restore
(strength 0.8) runs on the enlarged image before any Lanczos step; `tileSize`
0 picks the tile from the device's memory budget (Real-ESRGAN) or 400 px (Real-CUGAN, as
its package does on the CPU), else 32..1024 px.

Alpha is enlarged apart from the colour with libvips (bicubic, as realcugan-ncnn does for
alpha): the networks take RGB, and running alpha through one as grey would double the
time. EXIF orientation is applied, the ICC profile and resolution are kept, other
metadata is dropped (as every tool does); grey stays grey, CMYK becomes sRGB. 16-bit
input is upscaled in 8 bits (the networks take 8-bit input) and comes back 8-bit, with a
note. The output may not exceed the pixel limit: OUTPUT_TOO_LARGE (400) before any work.

Speed, measured on a 2-core CPU (shared with other work), model loaded, 256² input:
x4plus ~21 s at any scale, x4plus-anime ~7 s, Real-CUGAN 2.7 s at x2 and 4.9 s at x4,
animevideov3 1.2 s; a 1 MP photo at x2: animevideov3 16 s, Real-CUGAN 37 s, x4plus
(`auto`) ~5 min (estimated from 256²). A GPU worker takes seconds. Progress and cancel
come per tile. Limits: the first page/frame of multi-page files only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pyvips
from pydantic import BeforeValidator, Field, field_validator

from tools import arrays, colour, enhance_faces, imaging, noise_removal
from tools.ai import face_restore, install, onnx_session, realcugan, realesrgan
from tools.ai.catalog import catalog
from tools.ai.credit import Run, credit
from tools.base import Context, Output, Source, Tool, ToolError
from tools.fields import ImageOutputSettings

AUTO_MODEL = "realesrgan-x4plus"
MODELS = (
    "realesrgan-x4plus",
    "realesrgan-x4plus-anime",
    "realesr-animevideov3",
    realcugan.MODEL_ID,
)
FACE_MODELS = ("gfpgan-v1.4", "codeformer")
DENOISE_TRUE = 0.5  # what `"denoise": true` means
# Progress: decoding and denoising take up to here, the tiles take the next 50 points,
# and imaging.write_image reports encoding at 70.
_TILES_START, _TILES_SPAN = 15.0, 50.0
_TILE_MESSAGE = re.compile(r"(\d+)/(\d+)$")

ModelChoice = Literal[
    "auto",
    "realesrgan-x4plus",
    "realesrgan-x4plus-anime",
    "realesr-animevideov3",
    "realcugan-se-conservative",
]


def _denoise_level(value: Any) -> Any:
    """true/false as a level: true is DENOISE_TRUE, false 0."""
    if isinstance(value, bool):
        return DENOISE_TRUE if value else 0.0
    return value


class Settings(ImageOutputSettings):
    """Scale and model; a classic denoise first; tile size; face enhancement (not shipped)."""

    scale: Literal[2, 3, 4] = Field(2, description="Enlarge 2, 3 or 4 times.")
    model: ModelChoice = Field(
        "auto", description="auto (realesrgan-x4plus), or a catalog model id."
    )
    faceEnhance: bool = Field(
        False, description="Restore faces (needs gfpgan-v1.4 or codeformer installed)."
    )
    denoise: Annotated[float, BeforeValidator(_denoise_level)] = Field(
        0, ge=0, le=1, description="Remove noise first (OpenCV), 0..1; true means 0.5."
    )
    tileSize: int = Field(
        0, ge=0, le=1024, description="Tile edge in input px (32..1024); 0 picks one."
    )

    @field_validator("tileSize")
    @classmethod
    def _tile_size(cls, value: int) -> int:
        if 0 < value < 32:
            raise ValueError("0 (automatic) or 32..1024")
        return value


@dataclass
class _Upscaler:
    """A loaded model at one native scale: what it is and how to run it."""

    model_id: str
    native: int
    described: dict[str, Any]
    fallback: str | None
    default_tile: int
    run: Callable[[np.ndarray, Context, int, list[str]], np.ndarray]


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Enlarge the image with the chosen model; see the module docstring."""
    source = inputs[0]
    face_model = require_face_model(ctx) if settings.faceEnhance else None
    ctx.progress(2, "reading the image")
    image = imaging.load(source, ctx.max_megapixels)
    check_output_size(image.width, image.height, settings.scale, ctx.max_megapixels, source.name)
    model_id = AUTO_MODEL if settings.model == "auto" else settings.model
    upscaler = load_upscaler(ctx, model_id, settings.scale)
    image, deep = eight_bit(image)
    gpu = f"asked for the GPU: {upscaler.fallback}" if upscaler.fallback else None
    notes = [note for note in (gpu, deep) if note]
    result, runs, info = enlarge(image, upscaler, settings, ctx, notes, face_model)
    fmt = imaging.output_format(settings.format, source.format)
    output = imaging.write_image(result, ctx, fmt, source, quality=settings.quality)
    output.extras = {**info, **({"notes": notes} if notes else {})}
    return credit(output, [*runs, Run(engine=output.engine)])


def enlarge(
    image: pyvips.Image,
    upscaler: _Upscaler,
    settings: Settings,
    ctx: Context,
    notes: list[str],
    face_model: str | None = None,
) -> tuple[pyvips.Image, list[Run | dict[str, Any]], dict[str, Any]]:
    """The enlarged 8-bit image (alpha and grey kept), the runs that made it, its extras."""
    grey = image.bands - int(image.hasalpha()) == 1
    parts = colour.split(image)
    rgb = arrays.to_array(parts.colour)
    runs: list[Run | dict[str, Any]] = []
    info: dict[str, Any] = {}
    if settings.denoise > 0:
        ctx.progress(5, "removing noise (OpenCV)")
        ctx.check_cancelled()
        rgb, denoised, info["denoise"] = denoise_first(rgb, settings.denoise)
        runs.append(denoised)
    tiles = _TileProgress(ctx)
    tile = settings.tileSize or upscaler.default_tile
    big = upscaler.run(rgb, ctx.derive(progress=tiles), tile, notes)
    ctx.check_cancelled()
    if face_model:
        big, face_runs, info["facesEnhanced"] = restore_faces(big, face_model, ctx, notes)
        runs += face_runs
    ctx.progress(_TILES_START + _TILES_SPAN, "finishing")
    result, steps = finish(big, image, parts, settings.scale, upscaler.native)
    if grey:
        result = result.colourspace("b-w")
    info = {**describe(upscaler, settings.scale, tile, tiles.total, result), **info}
    return result, [*runs, upscaler.described, *steps], info


# --- before the work -----------------------------------------------------------------------


def require_face_model(ctx: Context) -> str:
    """faceEnhance: the installed face model (GFPGAN first), else 503 naming the one to
    install (none ships with Pixelsmith)."""
    for model_id in FACE_MODELS:
        if install.is_installed(ctx.model_dir, model_id):
            return model_id
    spec = catalog().get(FACE_MODELS[0])
    how = (
        install.how_to_install(spec)
        if spec is not None
        else f"it is not in this server's model catalog yet; once it is, run "
        f"`manage.py models install {FACE_MODELS[0]}`"
    )
    raise ToolError(
        "MODEL_NOT_INSTALLED",
        f"faceEnhance needs a face restoration model: '{FACE_MODELS[0]}' (or "
        f"'{FACE_MODELS[1]}') is not installed: {how}",
        503,
    )


def restore_faces(
    rgb: np.ndarray, model_id: str, ctx: Context, notes: list[str]
) -> tuple[np.ndarray, list[Run], int]:
    """faceEnhance: enhance-faces' detect, align, restore and paste-back on the enlarged
    image (at the model's native scale, before any Lanczos step)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        notes.append("faceEnhance skipped: a grey image")
        return rgb, [], 0
    ctx.progress(_TILES_START + _TILES_SPAN, "restoring faces")
    model = face_restore.session(ctx, model_id)
    quiet = ctx.derive(progress=lambda percent, message="": None)
    restored, runs, count = enhance_faces.enhance(
        quiet, rgb, model, strength=0.8, fidelity=0.5, sensitivity=0.5
    )
    return restored, runs, count


def check_output_size(width: int, height: int, scale: int, max_megapixels: int, name: str) -> None:
    """Refuse, before any work, an output over the pixel limit."""
    out_w, out_h = width * scale, height * scale
    if out_w * out_h > max_megapixels * 1_000_000:
        raise ToolError(
            "OUTPUT_TOO_LARGE",
            f"{name} upscaled x{scale} would be {out_w}x{out_h} px "
            f"({out_w * out_h / 1e6:.0f} MP), over the {max_megapixels} MP limit: "
            "use a smaller scale or a smaller image",
            400,
        )


def native_scale(model_id: str, scale: int) -> int:
    """The scale the model runs at: the one asked for if it has it, else its largest."""
    scales = catalog()[model_id].scales
    return scale if scale in scales else max(scales)


def load_upscaler(ctx: Context, model_id: str, scale: int) -> _Upscaler:
    """The loaded model (503 MODEL_NOT_INSTALLED / ENGINE_UNAVAILABLE when it cannot be)."""
    native = native_scale(model_id, scale)
    if model_id == realcugan.MODEL_ID:
        net = realcugan.load(ctx, native)

        def run_cugan(rgb: np.ndarray, c: Context, tile: int, notes: list[str]) -> np.ndarray:
            return realcugan.upscale(net, rgb, ctx=c, tile=tile, notes=notes)

        return _Upscaler(
            model_id, native, net.describe(), net.fallback, realcugan.DEFAULT_TILE, run_cugan
        )
    spec = catalog()[model_id]
    file = spec.file_for_scale(native)
    assert file is not None, f"{model_id} has no file for x{native}"
    session = onnx_session.for_model(ctx, spec, file)

    def run_esrgan(rgb: np.ndarray, c: Context, tile: int, notes: list[str]) -> np.ndarray:
        return realesrgan.upscale(session, rgb, scale=native, ctx=c, tile=tile, notes=notes)

    default = realesrgan.default_tile(native, session.device)
    return _Upscaler(model_id, native, session.describe(), session.fallback, default, run_esrgan)


def eight_bit(image: pyvips.Image) -> tuple[pyvips.Image, str | None]:
    """The image in 8 bits (alpha too), and a note when it was deeper."""
    if image.format != "ushort" and image.interpretation not in ("rgb16", "grey16"):
        return image, None
    grey = image.bands - int(image.hasalpha()) == 1
    note = "16-bit input: upscaled in 8 bits (the networks take 8-bit input); output is 8-bit"
    return image.colourspace("b-w" if grey else "srgb"), note


def denoise_first(rgb: np.ndarray, level: float) -> tuple[np.ndarray, Run, dict[str, Any]]:
    """noise-removal's balanced tier at strength 100 × level, on 8-bit RGB."""
    tier = noise_removal.Settings.model_validate({"quality": "balanced", "strength": level * 100})
    sigma = noise_removal.noise_sigma(rgb)
    cleaned = noise_removal.denoise(rgb, tier, sigma)
    cleaned = noise_removal.keep_edges(rgb, cleaned, tier.preserveDetail)
    strengths = noise_removal.filter_strengths(tier, sigma)
    info = {"level": level, "noiseSigma": round(sigma, 2), **strengths}
    return cleaned, Run(engine=noise_removal.engine(tier, strengths)), info


# --- after the network ---------------------------------------------------------------------


class _TileProgress:
    """Maps the tiles' 0..100 onto this tool's progress, and remembers the tile count."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.total = 0

    def __call__(self, percent: float, message: str = "") -> None:
        counted = _TILE_MESSAGE.search(message)
        if counted:
            self.total = int(counted.group(2))
        self.ctx.progress(_TILES_START + _TILES_SPAN * percent / 100, message)


def finish(
    big: np.ndarray, image: pyvips.Image, parts: colour.Split, scale: int, native: int
) -> tuple[pyvips.Image, list[Run]]:
    """The network's RGB at the requested size, with the alpha enlarged; the steps run."""
    version = f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    height, width = image.height * scale, image.width * scale
    rgb = arrays.from_array(big, "srgb", like=parts.colour)  # its ICC: sRGB for CMYK input
    steps = []
    if native != scale:
        rgb = rgb.resize(width / rgb.width, vscale=height / rgb.height, kernel="lanczos3")
        steps.append(Run(engine=f"{version} Lanczos3 (x{native} model output to x{scale})"))
    alpha = None
    if parts.alpha is not None:
        alpha = parts.alpha.resize(scale, kernel="lanczos3")  # enlarging: bicubic
        steps.append(Run(engine=f"{version} bicubic (alpha)"))
    return colour.join(colour.Split(parts.colour, alpha, parts.format), rgb), steps


def describe(
    upscaler: _Upscaler, scale: int, tile: int, tiles: int, result: pyvips.Image
) -> dict[str, Any]:
    """The extras every result carries."""
    info: dict[str, Any] = {
        "model": upscaler.model_id,
        "modelFile": upscaler.described["model"],
        "nativeScale": upscaler.native,
        "scale": scale,
        "tileSize": tile,
        "tiles": tiles,
        "width": result.width,
        "height": result.height,
    }
    if upscaler.native != scale:
        info["resampled"] = f"x{upscaler.native} model, Lanczos3 down to x{scale}"
    if result.hasalpha():
        info["alpha"] = "enlarged apart from the colour (libvips bicubic)"
    return info


TOOL = Tool(
    id="upscale",
    name="Image Upscaling",
    category="ai",
    description="Enlarge 2, 3 or 4 times with Real-ESRGAN (photos, anime) or Real-CUGAN "
    "(anime); alpha kept, progress and cancel per tile.",
    settings=Settings,
    run=run,
    models=MODELS,
    inline=False,
)
