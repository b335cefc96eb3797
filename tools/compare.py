"""Compare two images: a picture of their differences and similarity figures.

`mode` picks the picture: side-by-side (first | second), overlay (the two mixed 50/50),
or diff (the first in dimmed grey, changed pixels in red). The figures, returned in the
result info (`X-Result-Info` over HTTP), are:

- `ssim`: mean structural similarity of the luminance (Wang et al. 2004: Gaussian
  window sigma 1.5, K1 0.01, K2 0.03), 1.0 for identical images;
- `psnr`: peak signal-to-noise ratio over R, G, B in dB, null when identical (infinite);
- `changedPercent`: share of pixels where some channel differs by more than
  `diffThreshold` (0..255).

Transparent pixels are compared as they look on white. A second image of another size
is resized (stretched) to the first's size first, and `resized` says so. All arithmetic
is libvips. Limits: the first page/frame of each file; colours compared as 8-bit sRGB.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import pyvips
from pydantic import Field

from tools import colour, imaging
from tools.base import Context, Inputs, Output, Source, Tool, ToolSettings
from tools.fields import ImageFormat, Quality

_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
_RED = [255, 0, 0]


class Settings(ToolSettings):
    """The picture to make and the difference that counts as a change."""

    mode: Literal["side-by-side", "overlay", "diff"] = Field("diff", description="Picture.")
    diffThreshold: int = Field(
        10, ge=0, le=255, description="Channel difference above which a pixel has changed."
    )
    format: ImageFormat = Field("png", description="Format of the picture.")
    quality: Quality | None = None


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Compare the second file to the first; see the module docstring."""
    first, second = (_flat_rgb(s, ctx) for s in inputs)
    resized = (second.width, second.height) != (first.width, first.height)
    if resized:
        hscale, vscale = first.width / second.width, first.height / second.height
        second = second.resize(hscale, vscale=vscale, kernel="lanczos3")
    ctx.progress(30, "measuring")
    figures = measure(first, second, settings.diffThreshold)
    ctx.check_cancelled()
    picture = _PICTURES[settings.mode](first, second, settings.diffThreshold)
    output = imaging.write_image(picture, ctx, settings.format, inputs[0], quality=settings.quality)
    output.extras.update(figures, resized=resized, mode=settings.mode)
    return output


def _flat_rgb(source: Source, ctx: Context) -> pyvips.Image:
    """8-bit sRGB, alpha flattened on white, in memory (it is read several times)."""
    image = colour.to_rgb(imaging.load(source, ctx.max_megapixels))
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    return image.cast("uchar").copy_memory()


def measure(a: pyvips.Image, b: pyvips.Image, threshold: int) -> dict[str, Any]:
    """SSIM, PSNR and changed-pixel share of two same-size 8-bit sRGB images."""
    mse = ((a.cast("float") - b.cast("float")) ** 2).avg()
    psnr = None if mse == 0 else round(10 * math.log10(255**2 / mse), 3)
    changed = _changed(a, b, threshold).avg() / 255 * 100
    return {
        "ssim": round(ssim(a, b), 6),
        "psnr": psnr,
        "changedPercent": round(changed, 4),
        "identical": mse == 0,
    }


def ssim(a: pyvips.Image, b: pyvips.Image) -> float:
    """Mean SSIM of the luminance, with Gaussian (sigma 1.5) local statistics."""
    x = a.colourspace("b-w")[0].cast("float")
    y = b.colourspace("b-w")[0].cast("float")

    def blur(image: pyvips.Image) -> pyvips.Image:
        return image.gaussblur(1.5, precision="float")

    mx, my = blur(x), blur(y)
    var_x, var_y = blur(x * x) - mx * mx, blur(y * y) - my * my
    cov = blur(x * y) - mx * my
    top = (mx * my * 2 + _C1) * (cov * 2 + _C2)
    bottom = (mx * mx + my * my + _C1) * (var_x + var_y + _C2)
    return float((top / bottom).avg())


def _changed(a: pyvips.Image, b: pyvips.Image, threshold: int) -> pyvips.Image:
    """255 where any channel differs by more than `threshold`, else 0 (one band)."""
    return ((a.cast("short") - b.cast("short")).abs() > threshold).bandor()


def _side_by_side(a: pyvips.Image, b: pyvips.Image, _threshold: int) -> pyvips.Image:
    return a.join(b, "horizontal", shim=0)


def _overlay(a: pyvips.Image, b: pyvips.Image, _threshold: int) -> pyvips.Image:
    return ((a.cast("short") + b) / 2).rint().cast("uchar").copy(interpretation="srgb")


def _diff(a: pyvips.Image, b: pyvips.Image, threshold: int) -> pyvips.Image:
    """The first image in light grey (context), changed pixels in pure red."""
    grey = (a.colourspace("b-w")[0] * 0.35 + 150).cast("uchar")
    context = grey.bandjoin([grey, grey]).copy(interpretation="srgb")
    return _changed(a, b, threshold).ifthenelse(_RED, context)


_PICTURES = {"side-by-side": _side_by_side, "overlay": _overlay, "diff": _diff}


TOOL = Tool(
    id="compare",
    name="Image Compare",
    category="utilities",
    description="Compare a second image with the first: side-by-side, overlay or diff "
    "picture, plus SSIM, PSNR and changed-pixel %.",
    settings=Settings,
    run=run,
    inputs=Inputs.TWO,
)
