"""Stitch: join several images into one, side by side, stacked, or in a grid.

`direction` horizontal (the default) puts the images left to right, vertical top to bottom,
grid fills `columns` columns row by row (upload order); only grid takes `columns`. `gap`
pixels of `backgroundColor` separate them (not around the outside). `scale` first brings
the images to a common size:

- horizontal: a common height; vertical: a common width; grid: a common height;
- "smallest" scales down to the smallest of them (never enlarges), "largest" up to the
  largest, "none" keeps every image as it is.

Where images still differ (no scaling, or grid cells of different widths), `alignment`
places each one at the start (left/top), center or end of its row, column or cell; the
rest shows the background. Transparent inputs are composited over the background; a
"transparent" background needs an output format with alpha (jpeg gets white).

Limits: up to 200 files (the runner's bound); the result within the pixel limit
(413 IMAGE_TOO_LARGE otherwise); the first page/frame of each file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Literal

import pyvips
from pydantic import Field

from tools import colour, imaging
from tools.base import Context, Inputs, Output, Source, Tool, ToolSettings
from tools.fields import (
    HexColor,
    ImageFormat,
    ModeSettings,
    Quality,
    parse_color,
)

_ALIGN = {"start": 0.0, "center": 0.5, "end": 1.0}


class _Layout(ToolSettings):
    """What every direction takes: spacing, background, alignment, scaling, output."""

    gap: int = Field(0, ge=0, le=1000, description="Pixels between images.")
    backgroundColor: HexColor = Field("#ffffff", description="Colour of gaps and free space.")
    alignment: Literal["start", "center", "end"] = Field(
        "center", description="Where a smaller image sits in its row, column or cell."
    )
    scale: Literal["smallest", "largest", "none"] = Field(
        "smallest", description="Common height (horizontal, grid) or width (vertical)."
    )
    format: ImageFormat = Field("png", description="Output format.")
    quality: Quality | None = None


class StitchLine(_Layout):
    """Every image in one row (horizontal, the default) or one column (vertical)."""

    direction: Literal["horizontal", "vertical"] = "horizontal"


class StitchGrid(_Layout):
    """The images fill `columns` columns, row by row."""

    direction: Literal["grid"]
    columns: int = Field(2, ge=1, le=50, description="Columns of the grid.")


Layout = StitchLine | StitchGrid


class Settings(ModeSettings[Annotated[Layout, Field(discriminator="direction")]]):
    """Layout (`direction`, left out: horizontal), spacing, background and common size.

    One model per layout, so `columns` is refused unless the direction is grid.
    """

    default_mode = "horizontal"


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Join the images; see the module docstring."""
    s = settings.root
    images = []
    for source in inputs:
        ctx.check_cancelled()
        image = colour.to_rgb(imaging.load(source, ctx.max_megapixels)).cast("uchar")
        images.append(image if image.hasalpha() else image.addalpha())
    images = _common_size(images, s)
    ctx.progress(40, "placing")
    places, width, height = layout([(im.width, im.height) for im in images], s)
    imaging.check_pixels(width, height, ctx.max_megapixels, "the stitched image")
    background = parse_color(s.backgroundColor)
    canvas = (pyvips.Image.black(width, height, bands=4) + list(background)).cast("uchar")
    canvas = canvas.copy(interpretation="srgb")
    xs, ys = [x for x, _ in places], [y for _, y in places]
    result = canvas.composite(images, "over", x=xs, y=ys) if images else canvas
    opaque = background[3] == 255 and all(_is_opaque(im) for im in images)
    if opaque:
        result = result.extract_band(0, n=3)
    output = imaging.write_image(result, ctx, s.format, inputs[0], quality=s.quality)
    output.extras.update(width=width, height=height, count=len(images))
    return output


def _is_opaque(image: pyvips.Image) -> bool:
    return bool(image[3].min() == 255)


def _common_size(images: list[pyvips.Image], settings: Layout) -> list[pyvips.Image]:
    """Scale to a common height (or width for vertical), per `scale`."""
    if settings.scale == "none":
        return images
    vertical = settings.direction == "vertical"
    sizes = [im.width if vertical else im.height for im in images]
    target = min(sizes) if settings.scale == "smallest" else max(sizes)
    return [
        im if size == target else im.resize(target / size)
        for im, size in zip(images, sizes, strict=True)
    ]


def layout(
    sizes: list[tuple[int, int]], settings: Layout
) -> tuple[list[tuple[int, int]], int, int]:
    """Top-left corner of each image, and the canvas width and height."""
    if isinstance(settings, StitchGrid):
        columns = settings.columns
    else:
        columns = len(sizes) if settings.direction == "horizontal" else 1
    columns = max(1, min(columns, len(sizes)))
    rows = math.ceil(len(sizes) / columns)
    col_widths = [max(w for w, _ in sizes[c::columns]) for c in range(columns)]
    row_heights = [max(h for _, h in sizes[r * columns : (r + 1) * columns]) for r in range(rows)]
    align = _ALIGN[settings.alignment]
    places = []
    for i, (w, h) in enumerate(sizes):
        row, col = divmod(i, columns)
        left = sum(col_widths[:col]) + col * settings.gap
        top = sum(row_heights[:row]) + row * settings.gap
        cell_w = col_widths[col] if settings.direction != "horizontal" else w
        cell_h = row_heights[row] if settings.direction != "vertical" else h
        places.append((left + round((cell_w - w) * align), top + round((cell_h - h) * align)))
    width = sum(col_widths) + (columns - 1) * settings.gap
    height = sum(row_heights) + (rows - 1) * settings.gap
    return places, width, height


TOOL = Tool(
    id="stitch",
    name="Stitch / Combine",
    category="layout",
    description="Join images horizontally, vertically or in a grid, with gaps, background "
    "colour, alignment and a common height/width.",
    settings=Settings,
    run=run,
    inputs=Inputs.MANY,
    min_inputs=2,
)
