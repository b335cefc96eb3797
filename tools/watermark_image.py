"""Image watermark: the second file (a logo, ideally a transparent PNG) over the first.

The watermark is scaled to `scale` percent of the image's width (aspect kept, Lanczos3,
premultiplied alpha), its alpha multiplied by `opacity`, and placed at one of nine
anchors `margin` px from the edges (`position`, default bottom-right), or at (`x`, `y`)
with position custom; `x`/`y` at an anchor, or `margin` at custom, are refused (400).

Limits: the first page/frame of each file; 16-bit images come out 8-bit; a watermark
larger than the image is clipped at its edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from tools import imaging, layers
from tools.base import Context, Inputs, Output, Source, Tool
from tools.fields import ImageOutputSettings, ModeSettings


class _Mark(ImageOutputSettings):
    """What every position takes: how opaque and how large the watermark is."""

    opacity: layers.Opacity = 50
    scale: float = Field(25, gt=0, le=100, description="Watermark width, % of image width.")


class WatermarkImageAnchored(_Mark, layers.AtAnchor):
    """At one of nine anchors (the default bottom-right), `margin` px from the edges."""


class WatermarkImageCustom(_Mark, layers.AtPoint):
    """The watermark's top-left corner at (`x`, `y`)."""


Placement = WatermarkImageAnchored | WatermarkImageCustom


class Settings(ModeSettings[Annotated[Placement, Field(discriminator="position")]]):
    """How opaque, how large (relative to the image) and where the watermark goes.

    One model per kind of `position` (left out: bottom-right), so `x`/`y` are refused at
    an anchor and `margin` at custom.
    """

    default_mode = "bottom-right"


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Place the second file, scaled and faded, over the first; see the module docstring."""
    s = settings.root
    source, mark_source = inputs
    fmt = imaging.output_format(s.format, source.format)
    ctx.progress(5, "decoding")
    image = layers.load_rgb(source, ctx.max_megapixels)
    mark = layers.with_opacity(imaging.load(mark_source, ctx.max_megapixels), 100)
    width = max(1, round(image.width * s.scale / 100))
    factor = width / mark.width
    mark = mark.premultiply().resize(factor, kernel="lanczos3").unpremultiply().cast("uchar")
    mark = layers.with_opacity(mark.copy(interpretation="srgb"), s.opacity)
    ctx.progress(40, "placing the watermark")
    if isinstance(s, WatermarkImageCustom):
        x, y = s.x, s.y
    else:
        size = (image.width, image.height)
        x, y = layers.anchor(size, (mark.width, mark.height), s.position, s.margin)
    result = layers.place(image, mark, x, y)
    return imaging.write_image(result, ctx, fmt, source, quality=s.quality)


TOOL = Tool(
    id="watermark-image",
    name="Image Watermark",
    category="watermark",
    description="A second image (logo) scaled to a share of the width, faded and placed "
    "at an anchor or x, y.",
    settings=Settings,
    run=run,
    inputs=Inputs.TWO,
)
