"""Convert: write an image in another format.

Any readable input (jpeg, png, gif, webp, tiff, heif, avif, svg, bmp, ico) to jpeg, png,
webp, avif, tiff, gif or heif. HEIC is encoded by pillow-heif, everything else by libvips.
Transparency becomes white in JPEG; metadata (EXIF, XMP) is dropped, the ICC profile kept.
Limits: the first page/frame of multi-page files only; AVIF/HEIC encodes of big images
take seconds, so this tool runs on the queue.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from tools import imaging
from tools.base import Context, Output, Source, Tool, ToolSettings
from tools.fields import ImageFormat, Quality


class Settings(ToolSettings):
    """The target format, and optionally the encoder quality."""

    format: ImageFormat
    quality: Quality | None = Field(
        None, description="Default: jpeg/webp 80, avif/heif 50; png/gif/tiff lossless."
    )


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Decode one image and encode it as `settings.format`."""
    source = inputs[0]
    ctx.progress(5, "reading header")
    image = imaging.load(source, ctx.max_megapixels)
    return imaging.write_image(image, ctx, settings.format, source, quality=settings.quality)


TOOL = Tool(
    id="convert",
    name="Convert",
    category="essentials",
    description="Convert to JPEG, PNG, WebP, AVIF, TIFF, GIF or HEIC.",
    settings=Settings,
    run=run,
    inline=False,
)
