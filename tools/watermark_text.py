"""Text watermark: semi-transparent text at an anchor, or tiled over the whole image.

The text is set in a shipped font (`font`, see `tools.layers.FONTS`) at `fontSize`
pixels, anti-aliased, any Unicode the font (or a system fallback font) covers; newlines
start new lines. `rotation` turns it clockwise in degrees. With `tile` the text is
repeated across the image with a gap of one font size between copies, and `position`
is ignored. Otherwise it goes at one of nine anchors `margin` px from the edges
(`position`, default bottom-right) or at (`x`, `y`) with position custom; `x`/`y` at an
anchor, or `margin` at custom, are refused (400). `color` may carry its own alpha, which
multiplies `opacity`.

Limits: at most 500 characters and 1000 px font size; the first page/frame only;
16-bit images come out 8-bit; text beyond the image's edges is clipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from tools import imaging, layers
from tools.base import Context, Output, Source, Tool
from tools.fields import (
    HexColor,
    ImageOutputSettings,
    ModeSettings,
    parse_color,
)


class _Text(ImageOutputSettings):
    """What every position takes: the text, its font, size, colour, opacity and turn."""

    text: layers.Text
    font: layers.FontName = Field("DejaVu Sans", description="One of the shipped fonts.")
    fontSize: layers.FontSize = 48
    color: HexColor = Field("#ffffff", description="Text colour.")
    opacity: layers.Opacity = 50
    rotation: float = Field(0, ge=-360, le=360, description="Clockwise, in degrees.")
    # A switch, not a mode: it overrides any position, so both position models take it.
    tile: bool = Field(False, description="Repeat the text over the whole image.")


class WatermarkTextAnchored(_Text, layers.AtAnchor):
    """At one of nine anchors (the default bottom-right), `margin` px from the edges."""


class WatermarkTextCustom(_Text, layers.AtPoint):
    """The text's top-left corner at (`x`, `y`)."""


Placement = WatermarkTextAnchored | WatermarkTextCustom


class Settings(ModeSettings[Annotated[Placement, Field(discriminator="position")]]):
    """What to write, in which font, size and colour, how opaque, where and how turned.

    One model per kind of `position` (left out: bottom-right), so `x`/`y` are refused at
    an anchor and `margin` at custom.
    """

    default_mode = "bottom-right"


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Draw the text watermark on one image; see the module docstring."""
    s = settings.root
    source = inputs[0]
    fmt = imaging.output_format(s.format, source.format)
    ctx.progress(5, "decoding")
    image = layers.load_rgb(source, ctx.max_megapixels)
    ctx.progress(30, "drawing text")
    mask = layers.text_mask(s.text, s.font, s.fontSize)
    layer = layers.solid(mask, parse_color(s.color), s.opacity)
    layer = layers.rotated(layer, s.rotation)
    if s.tile:
        layer = layers.tiled(layer, (image.width, image.height), s.fontSize)
        x, y = 0, 0
    elif isinstance(s, WatermarkTextCustom):
        x, y = s.x, s.y
    else:
        size = (image.width, image.height)
        x, y = layers.anchor(size, (layer.width, layer.height), s.position, s.margin)
    result = layers.place(image, layer, x, y)
    output = imaging.write_image(result, ctx, fmt, source, quality=s.quality)
    output.engine += layers.TEXT_ENGINE
    return output


TOOL = Tool(
    id="watermark-text",
    name="Text Watermark",
    category="watermark",
    description="Semi-transparent text at one of nine anchors (or x, y), rotated, "
    "or tiled over the image.",
    settings=Settings,
    run=run,
)
