"""Rotate & flip: any angle (clockwise), mirrored horizontally, vertically or both.

As in sharp, the flip happens first, then the rotation. Multiples of 90 degrees are
lossless pixel moves (exact sizes, no resampling); other angles resample with a bicubic
interpolator and grow the canvas to the rotated bounding box, filling the corners with
`background` (default transparent where the output format has alpha, white for JPEG).
Alpha is premultiplied while rotating so the edges don't pick up a dark fringe.
Limits: the first page/frame of multi-page files only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import pyvips
from pydantic import Field

from tools import imaging
from tools.base import Context, Output, Source, Tool, ToolSettings
from tools.fields import RGBA, HexColor, background_for

_FLIPS = {
    "horizontal": ("horizontal",),
    "vertical": ("vertical",),
    "both": ("horizontal", "vertical"),
}


class Settings(ToolSettings):
    """An angle in degrees (clockwise) and/or a flip."""

    angle: float = Field(0, ge=-360, le=360, description="Degrees clockwise.")
    flip: Literal["none", "horizontal", "vertical", "both"] = Field(
        "none", description="horizontal mirrors left-right, vertical mirrors top-bottom."
    )
    background: HexColor | None = Field(
        None, description="Corner colour for angles that are not multiples of 90."
    )
    # SnapOtter-style clients send the flips as two booleans; they add to `flip`.
    horizontal: bool = Field(False, description="Mirror left-right (same as flip=horizontal).")
    vertical: bool = Field(False, description="Mirror top-bottom (same as flip=vertical).")

    def flips(self) -> list[str]:
        """The mirror directions to apply, from `flip` and the two booleans."""
        wanted = set(_FLIPS.get(self.flip, ()))
        wanted |= {
            d for d, on in (("horizontal", self.horizontal), ("vertical", self.vertical)) if on
        }
        return sorted(wanted)


def rotate(image: pyvips.Image, angle: float, rgba: RGBA) -> pyvips.Image:
    """Rotate clockwise: exact for multiples of 90, resampled onto `rgba` otherwise."""
    angle %= 360
    quarters = round(angle / 90)
    if abs(angle - quarters * 90) < 1e-9:
        turn = quarters % 4
        return image.rot(f"d{turn * 90}") if turn else image
    image, background = imaging.with_background(image, rgba)
    interpolate = pyvips.Interpolate.new("bicubic")
    if not image.hasalpha():
        return image.rotate(angle, background=background, interpolate=interpolate)
    fmt, peak = image.format, (65535.0 if image.format == "ushort" else 255.0)
    alpha = background[-1]
    premultiplied = [v * alpha / peak for v in background[:-1]] + [alpha]
    rotated = image.premultiply().rotate(angle, background=premultiplied, interpolate=interpolate)
    return rotated.unpremultiply().cast(fmt)


def rotated_size(width: int, height: int, angle: float) -> tuple[int, int]:
    """The bounding box of a width x height image turned by `angle` degrees."""
    turn = math.radians(angle)
    cos, sin = abs(math.cos(turn)), abs(math.sin(turn))
    return math.ceil(width * cos + height * sin - 1e-6), math.ceil(
        width * sin + height * cos - 1e-6
    )


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Flip, then rotate one image."""
    source = inputs[0]
    fmt = imaging.output_format(None, source.format)
    ctx.progress(5, "reading header")
    # Random access: rotating by 90 reads the source in columns.
    image = imaging.load(source, ctx.max_megapixels)
    for direction in settings.flips():
        image = image.flip(direction)
    ctx.progress(30, "rotating")
    rgba = background_for(settings.background, fmt, imaging.ALPHA_FORMATS)
    imaging.check_pixels(*rotated_size(image.width, image.height, settings.angle),
                         ctx.max_megapixels, "the rotated image")  # fmt: skip
    image = rotate(image, settings.angle, rgba)
    return imaging.write_image(image, ctx, fmt, source)


TOOL = Tool(
    id="rotate",
    name="Rotate & Flip",
    category="essentials",
    description="Rotate by any angle (lossless for multiples of 90) and flip.",
    settings=Settings,
    run=run,
)
