"""Replace color: turn every pixel close to a target colour into another colour, or
into transparency.

Closeness is the CIEDE2000 colour difference (ΔE00) between the pixel and `targetColor`
in CIELAB: about 1 is the smallest difference people see, 10 is "clearly different
but related", 100 is black against white. Pixels with ΔE00 <= `tolerance` are replaced
(with `invert`, all the others are). A replaced pixel takes `replacementColor` whole,
alpha included: "transparent" (the default) or a "#rrggbbaa" with alpha below ff gives
an image with an alpha band. The edge is hard: pixels are in or out.

The output keeps the input's format, except that a format without alpha (JPEG) becomes
PNG when the replacement is (semi-)transparent; asking for JPEG then is an error.
`extras.replacedPercent` says how much of the image changed. Limits: the first
page/frame only; the colour bands are compared as sRGB (see `tools.colour`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyvips
from pydantic import Field, model_validator

from tools import colour, encode, imaging
from tools.base import Context, Output, Source, Tool
from tools.fields import HexColor, ImageOutputSettings, parse_color


class Settings(ImageOutputSettings):
    """Which colour, what to put instead, how close counts (ΔE00), and inversion."""

    targetColor: HexColor = Field("#ffffff", description="The colour to replace.")
    replacementColor: HexColor = Field(
        "transparent", description='The new colour, or "transparent".'
    )
    tolerance: float = Field(10, ge=0, le=100, description="Largest ΔE00 that still matches.")
    invert: bool = Field(False, description="Replace everything except the matching pixels.")

    @model_validator(mode="after")
    def _format_holds_the_replacement(self) -> Settings:
        opaque = parse_color(self.replacementColor)[3] == 255
        if self.format is not None and not opaque and self.format not in encode.ALPHA_FORMATS:
            raise ValueError(
                f"format: {self.format} cannot hold a transparent replacement; use png or webp"
            )
        return self


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Replace the pixels within `tolerance` of the target colour (or all others)."""
    source = inputs[0]
    replacement = parse_color(settings.replacementColor)
    fmt = imaging.output_format(settings.format, source.format)
    if replacement[3] < 255 and fmt not in imaging.ALPHA_FORMATS:
        fmt = "png"  # the input's format (JPEG) cannot hold the transparency asked for
    ctx.progress(5, "decoding")
    parts = colour.split(imaging.load(source, ctx.max_megapixels))
    ctx.progress(30, "matching colours")
    mask = matching(parts, parse_color(settings.targetColor)[:3], settings.tolerance)
    if settings.invert:
        mask = mask ^ 255
    mask = mask.copy_memory()  # computed once (ΔE00 is the costly part), read twice
    share = mask.avg() / 255
    image = colour.join(parts, parts.colour)
    image, values = imaging.with_background(image, replacement)
    result = mask.ifthenelse(values, image)
    output = imaging.write_image(result, ctx, fmt, source, quality=settings.quality)
    output.extras["replacedPercent"] = round(share * 100, 3)
    return output


def matching(parts: colour.Split, rgb: tuple[int, ...], tolerance: float) -> pyvips.Image:
    """A uchar mask, 255 where the colour is within `tolerance` ΔE00 of `rgb`."""
    lab = colour.to_lab(parts.colour, parts.interpretation)
    scale = parts.peak / 255
    target = pyvips.Image.black(1, 1, bands=3) + [v * scale for v in rgb]
    target_lab = colour.to_lab(target.cast(parts.format), parts.interpretation)
    reference = lab.new_from_image(target_lab.getpoint(0, 0))
    return lab.dE00(reference) <= tolerance


TOOL = Tool(
    id="replace-color",
    name="Replace Color",
    category="adjustments",
    description="Replace a colour (within a ΔE00 tolerance) by another colour or by "
    "transparency; invert to replace everything else.",
    settings=Settings,
    run=run,
)
