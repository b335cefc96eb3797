"""Image watermark: the second file (a logo, ideally a transparent PNG) over the first.

The watermark is scaled to `scale` percent of the image's width (aspect kept, Lanczos3,
premultiplied alpha), its alpha multiplied by `opacity`, and placed at one of nine
anchors `margin` px from the edges, or at (x, y) with position=custom.

Limits: the first page/frame of each file; 16-bit images come out 8-bit; a watermark
larger than the image is clipped at its edges.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from tools import imaging, layers
from tools.base import Context, Inputs, Output, Source, Tool
from tools.fields import ImageOutputSettings


class Settings(ImageOutputSettings):
    """How opaque, how large (relative to the image) and where the watermark goes."""

    opacity: layers.Opacity = 50
    position: layers.Position = Field("bottom-right", description="Anchor, or custom (x, y).")
    scale: float = Field(25, gt=0, le=100, description="Watermark width, % of image width.")
    x: int = Field(0, ge=-16383, le=16383, description="Left edge for position=custom, px.")
    y: int = Field(0, ge=-16383, le=16383, description="Top edge for position=custom, px.")
    margin: int = Field(20, ge=0, le=5000, description="Distance from the edges at anchors, px.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Place the second file, scaled and faded, over the first; see the module docstring."""
    source, mark_source = inputs
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    image = layers.load_rgb(source, ctx.max_megapixels)
    mark = layers.with_opacity(imaging.load(mark_source, ctx.max_megapixels), 100)
    width = max(1, round(image.width * settings.scale / 100))
    factor = width / mark.width
    mark = mark.premultiply().resize(factor, kernel="lanczos3").unpremultiply().cast("uchar")
    mark = layers.with_opacity(mark.copy(interpretation="srgb"), settings.opacity)
    ctx.progress(40, "placing the watermark")
    if settings.position == "custom":
        x, y = settings.x, settings.y
    else:
        size = (image.width, image.height)
        x, y = layers.anchor(size, (mark.width, mark.height), settings.position, settings.margin)
    result = layers.place(image, mark, x, y)
    return imaging.write_image(result, ctx, fmt, source, quality=settings.quality)


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
