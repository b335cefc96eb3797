"""Compose: the second file layered over the first at (x, y) with opacity and a blend mode.

`blend` is one of libvips' composite modes (the PDF/Cairo blend modes): over (normal),
multiply, screen, overlay, darken, lighten, colour-dodge, colour-burn, hard-light,
soft-light, difference, exclusion, add, saturate. The layer keeps its own size and
alpha; `opacity` multiplies its alpha. The result has the first file's size.

Limits: the first page/frame of each file; 16-bit images come out 8-bit; the layer is
clipped at the image's edges; (x, y) may be negative to hang it off the top/left.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from tools import imaging, layers
from tools.base import Context, Inputs, Output, Source, Tool
from tools.fields import ImageOutputSettings


class Settings(ImageOutputSettings):
    """Where the layer goes, how opaque it is and how it blends."""

    x: int = Field(0, ge=-16383, le=16383, description="Left edge of the layer, px.")
    y: int = Field(0, ge=-16383, le=16383, description="Top edge of the layer, px.")
    opacity: layers.Opacity = 100
    blend: layers.BlendMode = Field("over", description="libvips composite blend mode.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Layer the second file over the first; see the module docstring."""
    source, top_source = inputs
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "decoding")
    image = layers.load_rgb(source, ctx.max_megapixels)
    top = layers.with_opacity(imaging.load(top_source, ctx.max_megapixels), settings.opacity)
    ctx.progress(40, f"compositing ({settings.blend})")
    result = layers.place(image, top, settings.x, settings.y, settings.blend)
    return imaging.write_image(result, ctx, fmt, source, quality=settings.quality)


TOOL = Tool(
    id="compose",
    name="Image Composition",
    category="watermark",
    description="Layer a second image at x, y with opacity and a blend mode (multiply, "
    "screen, overlay, ...).",
    settings=Settings,
    run=run,
    inputs=Inputs.TWO,
)
