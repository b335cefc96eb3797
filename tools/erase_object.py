"""Object eraser: fill the pixels a mask marks with plausible surroundings.

The mask comes as `maskData`, a base64 PNG (a `data:image/png;base64,` URI is accepted)
of the same size as the image as displayed (after its EXIF orientation). A pixel is
erased when its mask value is above `maskThreshold`: the mask's alpha band where it has
transparency (strokes painted on a transparent layer), else its brightest colour band
(white on black). A mask of another size, an empty mask, bad base64 or a file that is
not a PNG is refused (400).

Engines (`engine`):
- `lama`: LaMa (big-lama, ONNX; catalog model `lama`) through tools.ai.lama, each masked
  area at 512x512 with its context; 503 MODEL_NOT_INSTALLED when it is not installed.
- `telea` / `navier-stokes`: OpenCV's classical `cv2.inpaint` (Telea's fast marching, or
  the Navier-Stokes based method), `radius` px around each pixel; fine for small marks
  and thin lines, blurry over large areas. Named as what it is, never as LaMa.
- `auto` (default): LaMa when it is installed, else Telea, and the output's extras say
  that LaMa was not installed and Telea ran.

Only masked pixels change: everything else (and alpha) is returned as it was; 16-bit
images keep their depth outside the mask. Limits: the first page/frame; a mask file as a
second upload is not taken (the tool takes one file; send the mask as `maskData`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pyvips
from pydantic import Field

from tools import arrays, imaging
from tools.ai import install, lama, rgb8
from tools.ai.credit import Run, credit
from tools.base import Context, Output, Source, Tool, ToolError
from tools.fields import ImageOutputSettings

MAX_MASK_CHARS = 64_000_000  # base64 of a large binary-mask PNG, with room to spare
_OPENCV_NAMES = {"telea": "Telea", "navier-stokes": "Navier-Stokes"}


class Settings(ImageOutputSettings):
    """The mask (base64 PNG), where it is cut, and which inpainting engine fills it."""

    maskData: str = Field(
        ...,
        min_length=1,
        max_length=MAX_MASK_CHARS,
        description="Base64 PNG the size of the image: white (or opaque) marks what to erase.",
    )
    maskThreshold: int = Field(127, ge=0, le=255, description="Mask values above this erase.")
    engine: Literal["auto", "lama", "telea", "navier-stokes"] = Field(
        "auto", description="auto: LaMa when installed, else OpenCV Telea."
    )
    radius: int = Field(5, ge=1, le=50, description="OpenCV inpainting radius (px).")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Erase the masked pixels with LaMa or OpenCV; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(2, "decoding")
    work = rgb8.load(source, ctx)
    mask = decode_mask(settings.maskData, settings.maskThreshold, work.size, ctx.max_megapixels)
    engine, note = choose_engine(settings.engine, ctx)
    ctx.check_cancelled()
    if engine == "lama":

        def step(done: int, total: int) -> None:
            ctx.progress(10 + 55 * done / total, f"LaMa: area {done + 1} of {total}")

        result, described = lama.inpaint(ctx, work.rgb8, mask, step)
        runs: list[Run] = [Run.of(described)]
    else:
        ctx.progress(10, f"inpainting ({_OPENCV_NAMES[engine]})")
        result, classic = opencv_inpaint(work.rgb8, mask, engine, settings.radius)
        runs = [classic]
    output = rgb8.write(work, result, ctx, fmt, source, settings.quality)
    output.extras = {"engineUsed": engine, "maskedPixels": int(mask.sum())}
    if note:
        output.extras["note"] = note
    return credit(output, [*runs, Run(engine=output.engine)])


def choose_engine(asked: str, ctx: Context) -> tuple[str, str | None]:
    """The engine to run and, when `auto` could not have LaMa, a note saying so."""
    if asked != "auto":
        return asked, None
    if install.is_installed(ctx.model_dir, lama.MODEL_ID):
        return "lama", None
    return "telea", (
        "LaMa (model lama) is not installed, so OpenCV's Telea inpainting ran instead; "
        "install LaMa with `manage.py models install lama` for better fills of large areas"
    )


def decode_mask(
    data: str, threshold: int, size: tuple[int, int], max_megapixels: int
) -> np.ndarray:
    """maskData -> (H, W) bool, True where to erase; 400 for anything unusable."""
    raw = _base64_png(data)
    try:
        image = pyvips.Image.new_from_buffer(raw, "", access="sequential")
        if (image.width, image.height) != size:
            raise ToolError(
                "MASK_SIZE_MISMATCH",
                f"The mask is {image.width}x{image.height} px but the image is "
                f"{size[0]}x{size[1]} px (as displayed, after its EXIF orientation)",
                400,
            )
        imaging.check_pixels(image.width, image.height, max_megapixels, "the mask")
        values = _mask_values(image)
    except pyvips.Error as exc:
        raise ToolError("MASK_INVALID", f"maskData is not a readable PNG: {exc}", 400) from None
    if values.dtype == np.uint16:
        values = values // 257
    mask = values > threshold
    if not mask.any():
        raise ToolError(
            "MASK_EMPTY", f"The mask marks nothing to erase (no value above {threshold})", 400
        )
    return mask


def _base64_png(data: str) -> bytes:
    try:
        return imaging.decode_base64(data, frozenset({"png"}))
    except ValueError as exc:
        code = "MASK_NOT_PNG" if str(exc).startswith("not a ") else "MASK_INVALID"
        raise ToolError(code, f"maskData: {exc} (a base64 PNG is expected)", 400) from None


def _mask_values(image: pyvips.Image) -> np.ndarray:
    """The alpha band where the mask has transparency, else its brightest colour band."""
    pixels = arrays.to_array(image)
    if image.hasalpha():
        peak = 65535 if image.format == "ushort" else 255
        if pixels[..., -1].min() < peak:
            return pixels[..., -1]
        pixels = pixels[..., :-1]
    return pixels.max(axis=2)


def opencv_inpaint(
    rgb: np.ndarray, mask: np.ndarray, method: str, radius: int
) -> tuple[np.ndarray, Run]:
    """cv2.inpaint (Telea or Navier-Stokes) over the mask's bounding box with a margin;
    only masked pixels change."""
    cv2 = arrays.cv2()
    ys, xs = np.nonzero(mask)
    margin = radius + 2
    height, width = mask.shape
    y0, y1 = max(0, ys.min() - margin), min(height, ys.max() + 1 + margin)
    x0, x1 = max(0, xs.min() - margin), min(width, xs.max() + 1 + margin)
    inside = mask[y0:y1, x0:x1]
    flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    filled = cv2.inpaint(crop, inside.astype(np.uint8) * 255, float(radius), flag)
    result = rgb.copy()
    result[y0:y1, x0:x1][inside] = filled[inside]
    engine = f"OpenCV {cv2.__version__} inpaint ({_OPENCV_NAMES[method]}, radius {radius})"
    return result, Run(engine=engine)


TOOL = Tool(
    id="erase-object",
    name="Object Eraser",
    category="ai",
    description="Erase what a mask marks and fill it in: LaMa (ONNX) when installed, or "
    "OpenCV's Telea / Navier-Stokes inpainting.",
    settings=Settings,
    run=run,
    models=(lama.MODEL_ID,),
    needs=(),  # OpenCV inpaints without LaMa
    inline=False,
)
