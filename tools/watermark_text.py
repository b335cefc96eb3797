"""Text watermark: semi-transparent text at an anchor, or tiled over the whole image.

The text is set in a shipped font (`font`, see `tools.layers.FONTS`) at `fontSize`
pixels, anti-aliased, any Unicode the font (or a system fallback font) covers; newlines
start new lines. `rotation` turns it clockwise in degrees. With `tile` the text is
repeated across the image with a gap of one font size between copies, and `position`
is ignored. `color` may carry its own alpha, which multiplies `opacity`.

Limits: at most 500 characters and 1000 px font size; the first page/frame only;
16-bit images come out 8-bit; text beyond the image's edges is clipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from tools import imaging, layers
from tools.base import Context, Output, Source, Tool
from tools.fields import HexColor, ImageOutputSettings, parse_color


class Settings(ImageOutputSettings):
    """What to write, in which font, size and colour, how opaque, where and how turned."""

    text: layers.Text
    font: layers.FontName = Field("DejaVu Sans", description="One of the shipped fonts.")
    fontSize: layers.FontSize = 48
    color: HexColor = Field("#ffffff", description="Text colour.")
    opacity: layers.Opacity = 50
    position: layers.Position = Field("bottom-right", description="Anchor, or custom (x, y).")
    x: int = Field(0, ge=-16383, le=16383, description="Left edge for position=custom, px.")
    y: int = Field(0, ge=-16383, le=16383, description="Top edge for position=custom, px.")
    margin: int = Field(20, ge=0, le=5000, description="Distance from the edges at anchors, px.")
    rotation: float = Field(0, ge=-360, le=360, description="Clockwise, in degrees.")
    tile: bool = Field(False, description="Repeat the text over the whole image.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Draw the text watermark on one image; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    image = layers.load_rgb(source, ctx.max_megapixels)
    ctx.progress(30, "drawing text")
    mask = layers.text_mask(settings.text, settings.font, settings.fontSize)
    layer = layers.solid(mask, parse_color(settings.color), settings.opacity)
    layer = layers.rotated(layer, settings.rotation)
    if settings.tile:
        layer = layers.tiled(layer, (image.width, image.height), settings.fontSize)
        x, y = 0, 0
    elif settings.position == "custom":
        x, y = settings.x, settings.y
    else:
        size = (image.width, image.height)
        x, y = layers.anchor(size, (layer.width, layer.height), settings.position, settings.margin)
    result = layers.place(image, layer, x, y)
    output = imaging.write_image(result, ctx, fmt, source, quality=settings.quality)
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
