"""Colour palette: the dominant colours of an image and the share of pixels each covers.

The image is sampled down to at most 256 px on its long side (nearest neighbour), its transparent
pixels (alpha below half) are left out, and Pillow's median-cut quantiser splits the
rest into `count` colours (fewer when the image has fewer). Colours come most common
first, as "#rrggbb" (format hex) or "rgb(r, g, b)" (format rgb), each with its RGB
values and its share in percent.

Limits: the first page/frame only; colours are 8-bit sRGB; median cut finds the
colours that cover most pixels, not small accents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

import pyvips
from PIL import Image
from pydantic import Field

from tools import colour, encode, imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolError, ToolSettings

_THUMB = 256


class Settings(ToolSettings):
    """How many colours, and how to write them."""

    count: int = Field(5, ge=1, le=32, description="Number of dominant colours.")
    format: Literal["hex", "rgb"] = Field("hex", description='"#rrggbb" or "rgb(r, g, b)".')


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Find the dominant colours of one image; see the module docstring."""
    ctx.progress(5, "decoding")
    image = imaging.load(inputs[0], ctx.max_megapixels)
    image = colour.to_rgb(_sample(image))
    ctx.progress(50, "quantising")
    counted = palette(_opaque_pixels(image), settings.count)
    total = sum(n for n, _ in counted)
    colours = [_entry(rgb, n / total, settings.format) for n, rgb in counted]
    ctx.progress(100, "done")
    engine = f"{imaging.engine_name(inputs[0].format)} + {encode.pillow_version()} median cut"
    return Output.json({"colors": colours, "format": settings.format}, engine)


def _sample(image: pyvips.Image) -> pyvips.Image:
    """At most `_THUMB` px on the long side, by nearest neighbour: a sample of the image's
    own colours, with no blends of neighbours invented at edges."""
    scale = _THUMB / max(image.width, image.height)
    return image.resize(scale, kernel="nearest") if scale < 1 else image


def _opaque_pixels(image: pyvips.Image) -> Image.Image:
    """The RGB pixels with alpha of at least half, as a one-row Pillow image."""
    bands = image.bands
    data = bytes(image.cast("uchar").write_to_memory())
    if not image.hasalpha():
        return Image.frombytes("RGB", (image.width * image.height, 1), data)
    pixels = b"".join(
        data[i : i + 3] for i in range(0, len(data), bands) if data[i + bands - 1] >= 128
    )
    if not pixels:
        raise ToolError("NO_OPAQUE_PIXELS", "the image is fully transparent: no colours", 422)
    return Image.frombytes("RGB", (len(pixels) // 3, 1), pixels)


def palette(pixels: Image.Image, count: int) -> list[tuple[int, tuple[int, int, int]]]:
    """(pixel count, RGB) of up to `count` median-cut colours, most common first."""
    quantised = pixels.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    flat = quantised.getpalette() or []
    # A palette ("P") image counts palette indices, which Pillow types as any pixel value.
    found = cast(list[tuple[int, int]], quantised.getcolors(maxcolors=256) or [])
    result = [(n, (flat[3 * i], flat[3 * i + 1], flat[3 * i + 2])) for n, i in found]
    return sorted(result, key=lambda item: -item[0])


def _entry(rgb: tuple[int, int, int], share: float, fmt: str) -> dict[str, Any]:
    text = "#{:02x}{:02x}{:02x}".format(*rgb) if fmt == "hex" else "rgb({}, {}, {})".format(*rgb)
    return {"color": text, "rgb": list(rgb), "percent": round(share * 100, 2)}


TOOL = Tool(
    id="color-palette",
    name="Color Palette",
    category="utilities",
    description="The dominant colours of an image (median cut) with their share, as hex or rgb().",
    settings=Settings,
    run=run,
    output=OutputKind.JSON,
)
