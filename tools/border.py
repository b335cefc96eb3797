"""Border & frame: a border around an image, with padding, rounded corners and a shadow.

From the inside out: `padding` pixels of `paddingColor` around the image, then `width`
pixels of border, then (optionally) a drop shadow. The border's `style` is one of these
(left out: solid); each takes only its own settings, another style's is a 400:
- solid: `color`;
- gradient: `color` at the top blending linearly into `secondColor` at the bottom;
- pattern: `patternType` checker (squares) or stripes (diagonal), `patternSize` px,
  alternating `color` and `secondColor`.

`borderRadius` rounds the outer corners of the frame: outside the arc is transparent
(anti-aliased edge). `shadow` adds a drop shadow of `shadowColor` (alpha included),
moved by `shadowOffsetX`/`shadowOffsetY` and softened by a Gaussian blur of
`shadowBlur` px; the canvas grows so the shadow is never cut.

The result keeps the input's format unless `format` is set, except that rounded corners
or a shadow on a format without alpha (jpeg) gives png, so corners stay transparent.
Limits: the first page/frame; the result within the pixel limit (413 beyond).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Literal

import pyvips
from pydantic import Field

from tools import colour, imaging
from tools.base import Context, Output, Source, Tool
from tools.fields import (
    RGBA,
    HexColor,
    ImageOutputSettings,
    ModeSettings,
    parse_color,
)


class _Frame(ImageOutputSettings):
    """What every style takes: border width and colour, corners, padding and shadow."""

    width: int = Field(20, ge=0, le=1000, description="Border width in px.")
    color: HexColor = Field("#000000", description="Border colour (gradient/pattern: first).")
    borderRadius: int = Field(0, ge=0, le=5000, description="Radius of the outer corners in px.")
    padding: int = Field(0, ge=0, le=1000, description="Space between image and border in px.")
    paddingColor: HexColor = Field("#ffffff", description="Colour of the padding.")
    shadow: bool = Field(False, description="Add a drop shadow.")
    shadowOffsetX: int = Field(8, ge=-500, le=500)
    shadowOffsetY: int = Field(8, ge=-500, le=500)
    shadowBlur: int = Field(12, ge=0, le=200, description="Shadow softness in px.")
    shadowColor: HexColor = Field("#00000080", description="Shadow colour with alpha.")


class BorderSolid(_Frame):
    """The default style: the border all in `color`."""

    style: Literal["solid"] = "solid"


class BorderGradient(_Frame):
    """`color` at the top blending linearly into `secondColor` at the bottom."""

    style: Literal["gradient"]
    secondColor: HexColor = Field("#ffffff", description="Gradient end colour (bottom).")


class BorderPattern(_Frame):
    """Checker squares or diagonal stripes alternating `color` and `secondColor`."""

    style: Literal["pattern"]
    secondColor: HexColor = Field("#ffffff", description="Pattern second colour.")
    patternType: Literal["checker", "stripes"] = Field("checker")
    patternSize: int = Field(10, ge=2, le=500, description="Pattern square/stripe size in px.")


Frame = BorderSolid | BorderGradient | BorderPattern


class Settings(ModeSettings[Annotated[Frame, Field(discriminator="style")]]):
    """Border width, look (`style`, left out: solid), corners, padding and shadow.

    One model per style, so `secondColor` is refused for solid and `patternType` /
    `patternSize` for all but pattern.
    """

    default_mode = "solid"


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Frame the image; see the module docstring."""
    frame = settings.root
    source = inputs[0]
    image = colour.to_rgb(imaging.load(source, ctx.max_megapixels)).cast("uchar")
    image = image if image.hasalpha() else image.addalpha()
    pad, border = frame.padding, frame.width
    inner = _fill(image.width + 2 * pad, image.height + 2 * pad, frame.paddingColor)
    inner = inner.composite2(image, "over", x=pad, y=pad)
    width, height = inner.width + 2 * border, inner.height + 2 * border
    imaging.check_pixels(width, height, ctx.max_megapixels, "the framed image")
    framed = frame_fill(width, height, frame).composite2(inner, "over", x=border, y=border)
    if frame.borderRadius:
        framed = round_corners(framed, frame.borderRadius)
    if frame.shadow:
        framed = add_shadow(framed, frame, ctx)
    fmt = imaging.output_format(frame.format, source.format)
    if frame.format is None and fmt not in imaging.ALPHA_FORMATS:
        fmt = "png" if frame.borderRadius or frame.shadow else fmt
    output = imaging.write_image(framed, ctx, fmt, source, quality=frame.quality)
    output.extras.update(width=framed.width, height=framed.height)
    return output


def _solid(width: int, height: int, rgba: RGBA) -> pyvips.Image:
    image = (pyvips.Image.black(width, height, bands=4) + list(rgba)).cast("uchar")
    return image.copy(interpretation="srgb")


def _fill(width: int, height: int, value: str) -> pyvips.Image:
    return _solid(width, height, parse_color(value))


def frame_fill(width: int, height: int, frame: Frame) -> pyvips.Image:
    """The whole frame area painted in the border style (the image goes on top)."""
    first = parse_color(frame.color)
    if isinstance(frame, BorderSolid):
        return _solid(width, height, first)
    second = parse_color(frame.secondColor)
    xyz = pyvips.Image.xyz(width, height)
    x, y = xyz[0], xyz[1]
    if isinstance(frame, BorderGradient):
        t = y / max(1, height - 1)
        mixed = t * list(second) + (1 - t) * list(first)
        return mixed.rint().cast("uchar").copy(interpretation="srgb")
    size = frame.patternSize
    if frame.patternType == "checker":
        odd = ((x / size).floor() + (y / size).floor()) % 2
    else:
        odd = ((x + y) / size).floor() % 2
    return (odd > 0).ifthenelse(list(second), list(first)).cast("uchar").copy(interpretation="srgb")


def round_corners(image: pyvips.Image, radius: int) -> pyvips.Image:
    """Transparent outside a rounded rectangle (anti-aliased by librsvg)."""
    r = min(radius, image.width // 2, image.height // 2)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{image.width}" height="{image.height}">'
        f'<rect width="{image.width}" height="{image.height}" rx="{r}" fill="#fff"/></svg>'
    )
    mask = pyvips.Image.svgload_buffer(svg.encode())[3]
    alpha = (image[3] * mask / 255).rint().cast("uchar")
    return image.extract_band(0, n=3).bandjoin(alpha).copy(interpretation="srgb")


def add_shadow(image: pyvips.Image, frame: Frame, ctx: Context) -> pyvips.Image:
    """`image` over its blurred, offset, coloured silhouette, on a larger canvas."""
    dx, dy, blur = frame.shadowOffsetX, frame.shadowOffsetY, frame.shadowBlur
    reach = math.ceil(blur * 1.5)  # 3 sigma of a sigma = blur / 2 Gaussian
    left, right = max(0, reach - dx), max(0, reach + dx)
    top, bottom = max(0, reach - dy), max(0, reach + dy)
    width, height = image.width + left + right, image.height + top + bottom
    imaging.check_pixels(width, height, ctx.max_megapixels, "the framed image")
    r, g, b, a = parse_color(frame.shadowColor)
    silhouette = image[3].embed(left + dx, top + dy, width, height)
    if blur:
        silhouette = silhouette.gaussblur(blur / 2)
    shadow_alpha = (silhouette * (a / 255)).rint().cast("uchar")
    shadow = _solid(width, height, (r, g, b, 255)).extract_band(0, n=3).bandjoin(shadow_alpha)
    return shadow.copy(interpretation="srgb").composite2(image, "over", x=left, y=top)


TOOL = Tool(
    id="border",
    name="Border & Frame",
    category="layout",
    description="Add a solid, gradient or patterned border with padding, rounded corners "
    "and a drop shadow.",
    settings=Settings,
    run=run,
)
