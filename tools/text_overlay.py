"""Text overlay: a caption at (x, y), optionally on a padded box with rounded corners.

The text is set like `watermark-text` (shipped font, `fontSize` px, anti-aliased,
Unicode, newlines). `background` fills a box `padding` px larger than the text on each
side, with corners of `borderRadius` px; "transparent" (the default) draws no box.
(x, y) is the box's top-left corner (the text's when there is no box).

Limits: at most 500 characters and 1000 px font size; the first page/frame only;
16-bit images come out 8-bit; parts beyond the image's edges are clipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyvips
from pydantic import Field

from tools import imaging, layers
from tools.base import Context, Output, Source, Tool
from tools.fields import HexColor, ImageOutputSettings, parse_color


class Settings(ImageOutputSettings):
    """The text, its font, size and colour, where it goes and the box behind it."""

    text: layers.Text
    font: layers.FontName = Field("DejaVu Sans", description="One of the shipped fonts.")
    fontSize: layers.FontSize = 32
    color: HexColor = Field("#ffffff", description="Text colour.")
    x: int = Field(0, ge=-16383, le=16383, description="Left edge of the box, px.")
    y: int = Field(0, ge=-16383, le=16383, description="Top edge of the box, px.")
    background: HexColor = Field("transparent", description="Box colour behind the text.")
    padding: int = Field(10, ge=0, le=1000, description="Box padding around the text, px.")
    borderRadius: int = Field(0, ge=0, le=1000, description="Box corner radius, px.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Draw the caption (and its box) on one image; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    image = layers.load_rgb(source, ctx.max_megapixels)
    ctx.progress(30, "drawing text")
    mask = layers.text_mask(settings.text, settings.font, settings.fontSize)
    layer = layers.solid(mask, parse_color(settings.color))
    box = parse_color(settings.background)
    if box[3] > 0:
        layer = _on_box(layer, box, settings.padding, settings.borderRadius)
    result = layers.place(image, layer, settings.x, settings.y)
    output = imaging.write_image(result, ctx, fmt, source, quality=settings.quality)
    output.engine += layers.TEXT_ENGINE
    return output


def _on_box(
    text: pyvips.Image, rgba: tuple[int, int, int, int], pad: int, radius: int
) -> pyvips.Image:
    """The text layer centred on a rounded box `pad` px larger on each side."""
    width, height = text.width + 2 * pad, text.height + 2 * pad
    box = layers.solid(layers.rounded_rect(width, height, radius), rgba)
    return box.composite2(text, "over", x=pad, y=pad).cast("uchar").copy(interpretation="srgb")


TOOL = Tool(
    id="text-overlay",
    name="Text Overlay",
    category="watermark",
    description="A text caption at x, y in a shipped font, optionally on a padded, "
    "rounded background box.",
    settings=Settings,
    run=run,
)
