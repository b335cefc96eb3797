"""Image to SVG: trace a raster image into vector paths with VTracer.

colorMode "color" traces stacked colour regions (colorPrecision: significant bits per
channel kept when clustering; fewer = fewer, bigger shapes); "bw" first thresholds the
luminance at `threshold` (darker pixels become black shapes) and traces one colour.
filterSpeckle drops patches smaller than that many pixels; pathMode "spline" fits
curves, "polygon" straight segments, "none" follows pixel edges.

Limits: the first page/frame only; the image is traced at most `maxSize` px on its long
side (tracing time and SVG size grow with the pixel count) and the SVG keeps that size;
transparent pixels stay empty in colour mode and count as white in bw mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.metadata import version
from typing import Literal

import pyvips
from pydantic import Field

from tools import imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolSettings

# VTracer's names for the path modes; "none" follows the pixel grid.
_MODES = {"none": "none", "polygon": "polygon", "spline": "spline"}


class Settings(ToolSettings):
    """Colour or black and white, detail, and the kind of path."""

    colorMode: Literal["bw", "color"] = Field("color", description="Trace colours or one colour.")
    threshold: int = Field(128, ge=0, le=255, description="bw: luminance below this is black.")
    colorPrecision: int = Field(6, ge=1, le=8, description="color: bits per channel kept.")
    filterSpeckle: int = Field(4, ge=0, le=128, description="Drop patches under this many px.")
    pathMode: Literal["none", "polygon", "spline"] = Field("spline", description="Path fitting.")
    maxSize: int = Field(1024, ge=16, le=4096, description="Longest side traced, in px.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Trace one image into an SVG document; see the module docstring."""
    ctx.progress(5, "decoding")
    image = imaging.load(inputs[0], ctx.max_megapixels)
    image = _fit(image, settings.maxSize)
    prepared = _bw(image, settings.threshold) if settings.colorMode == "bw" else _rgba(image)
    ctx.check_cancelled()
    ctx.progress(30, "tracing")
    svg = _trace(prepared.write_to_buffer(".png"), settings)
    path = ctx.scratch_path("image.svg")
    path.write_text(svg, encoding="utf-8")
    ctx.progress(100, "done")
    engine = f"VTracer {_vtracer_version()} (visioncortex)"
    return Output.file(OutputKind.DOCUMENT, path, "image.svg", engine=engine)


def _fit(image: pyvips.Image, longest: int) -> pyvips.Image:
    scale = longest / max(image.width, image.height)
    return image.resize(scale, kernel="lanczos3") if scale < 1 else image


def _rgba(image: pyvips.Image) -> pyvips.Image:
    rgb = image.colourspace("srgb") if image.interpretation != "srgb" else image
    rgb = rgb.cast("uchar") if rgb.format != "uchar" else rgb
    return rgb if rgb.hasalpha() else rgb.bandjoin(255)


def _bw(image: pyvips.Image, threshold: int) -> pyvips.Image:
    """Black where the luminance (over white, for transparent pixels) is below threshold."""
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    grey = image.colourspace("b-w")[0]
    return (grey >= threshold).ifthenelse(255, 0).cast("uchar")


def _trace(png: bytes, settings: Settings) -> str:
    import vtracer  # a compiled extension: loaded on first use, not when tools are listed

    svg: str = vtracer.convert_raw_image_to_svg(
        png,
        img_format="png",
        colormode="binary" if settings.colorMode == "bw" else "color",
        hierarchical="stacked",
        mode=_MODES[settings.pathMode],
        filter_speckle=settings.filterSpeckle,
        color_precision=settings.colorPrecision,
    )
    return svg


@cache
def _vtracer_version() -> str:
    return version("vtracer")


TOOL = Tool(
    id="vectorize",
    name="Image to SVG",
    category="format",
    description="Trace an image into SVG paths (colour or black and white) with VTracer.",
    settings=Settings,
    run=run,
    output=OutputKind.DOCUMENT,
    inline=False,
)
