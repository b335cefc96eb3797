"""Collage: several images laid out in one of 31 named templates on a fixed canvas.

A template is data: a list of cells, rectangles in unit coordinates (0..1 of the canvas),
one per image, filled in upload order (see `TEMPLATES`). Each image is cover-cropped
into its cell: scaled to fill it, and the part to keep chosen by libvips' smartcrop
"attention" (skin tones, saturation, edges), so faces and subjects stay in frame.

`gap` pixels of `backgroundColor` separate the cells and frame the outside. With
`borderRadius` the cells get anti-aliased rounded corners whose outside is transparent,
so it shows the background (a "transparent" background leaves it transparent; jpeg gets
white). `template` "auto" picks a layout for the number of images (1 single, 2 row-2,
3 row-3, 4 grid-2x2, 5 mosaic-5, 6 grid-3x2, more: the smallest near-square grid).

Limits: a named template takes exactly its number of images (`TEMPLATES[name]`), else
400 WRONG_INPUT_COUNT naming the template and its count; the canvas is at most
16383 px a side and within the pixel limit (413); cells must be at least 1 px after
the gaps (400); the first page/frame of each file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated

import pyvips
from pydantic import AfterValidator, Field

from tools import colour, imaging, layers
from tools.base import Context, Inputs, Output, Source, Tool, ToolError, ToolSettings
from tools.fields import HexColor, ImageFormat, Quality, parse_color

Cell = tuple[float, float, float, float]  # x, y, width, height in unit coordinates


def _grid(columns: int, rows: int) -> list[Cell]:
    return [
        (c / columns, r / rows, 1 / columns, 1 / rows) for r in range(rows) for c in range(columns)
    ]


def _inset(cells: list[Cell], margin: float) -> list[Cell]:
    return [(x + margin, y + margin, w - 2 * margin, h - 2 * margin) for x, y, w, h in cells]


T = 1 / 3
TEMPLATES: dict[str, list[Cell]] = {
    "single": [(0, 0, 1, 1)],
    "grid-2x2": _grid(2, 2),
    "grid-3x3": _grid(3, 3),
    "grid-2x3": _grid(2, 3),  # columns x rows
    "grid-3x2": _grid(3, 2),
    "grid-4x4": _grid(4, 4),
    "row-2": _grid(2, 1),
    "row-3": _grid(3, 1),
    "row-4": _grid(4, 1),
    "column-2": _grid(1, 2),
    "column-3": _grid(1, 3),
    "column-4": _grid(1, 4),
    "big-left-2-right": [(0, 0, 2 * T, 1), (2 * T, 0, T, 0.5), (2 * T, 0.5, T, 0.5)],
    "big-left-3-right": [(0, 0, 2 * T, 1), *[(2 * T, i * T, T, T) for i in range(3)]],
    "big-right-2-left": [(T, 0, 2 * T, 1), (0, 0, T, 0.5), (0, 0.5, T, 0.5)],
    "big-top-2-bottom": [(0, 0, 1, 2 * T), (0, 2 * T, 0.5, T), (0.5, 2 * T, 0.5, T)],
    "big-top-3-bottom": [(0, 0, 1, 2 * T), *[(i * T, 2 * T, T, T) for i in range(3)]],
    "big-bottom-3-top": [(0, T, 1, 2 * T), *[(i * T, 0, T, T) for i in range(3)]],
    # A featured centre column and four satellites, two each side: five images.
    "featured-center-4": [
        (0.25, 0, 0.5, 1),
        (0, 0, 0.25, 0.5),
        (0, 0.5, 0.25, 0.5),
        (0.75, 0, 0.25, 0.5),
        (0.75, 0.5, 0.25, 0.5),
    ],
    "l-shape-3": [(T, 0, 2 * T, 2 * T), (0, 0, T, 1), (T, 2 * T, 2 * T, T)],
    "t-shape-4": [
        (0, 0, 1, 0.5),
        (0, 0.5, 0.25, 0.5),
        (0.25, 0.5, 0.5, 0.5),
        (0.75, 0.5, 0.25, 0.5),
    ],
    "mosaic-5": [(0, 0, 0.5, 1), *[(0.5 + x, y, 0.25, 0.5) for y in (0, 0.5) for x in (0, 0.25)]],
    "mosaic-6": [
        (0, 0, 2 * T, 2 * T),
        (2 * T, 0, T, T),
        (2 * T, T, T, T),
        *[(i * T, 2 * T, T, T) for i in range(3)],
    ],
    "magazine-4": [
        (0, 0, 2 * T, 2 * T),
        (2 * T, 0, T, 2 * T),
        (0, 2 * T, 0.5, T),
        (0.5, 2 * T, 0.5, T),
    ],
    # Four rectangles turning around a centre square.
    "pinwheel-5": [
        (0, 0, 2 * T, T),
        (2 * T, 0, T, 2 * T),
        (T, 2 * T, 2 * T, T),
        (0, T, T, 2 * T),
        (T, T, T, T),
    ],
    "diagonal-3": [(i * T, i * T, T, T) for i in range(3)],
    "staircase-4": [(i * 0.25, i * 0.125, 0.25, 0.625) for i in range(4)],
    "filmstrip-5": [(i * 0.2, 0.3, 0.2, 0.4) for i in range(5)],
    "polaroid-wall-6": _inset(_grid(3, 2), 0.03),
    "hero-banner-4": [
        (0, 0, 1, 0.5),
        (0, 0.5, 0.5, 0.5),
        (0.5, 0.5, 0.25, 0.5),
        (0.75, 0.5, 0.25, 0.5),
    ],
    "side-by-side-tall-2": [(0, 0, 0.4, 1), (0.4, 0, 0.6, 1)],
}
_AUTO = {1: "single", 2: "row-2", 3: "row-3", 4: "grid-2x2", 5: "mosaic-5", 6: "grid-3x2"}


def _known(name: str) -> str:
    if name != "auto" and name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; one of auto, {', '.join(TEMPLATES)}")
    return name


TemplateName = Annotated[
    str,
    AfterValidator(_known),
    Field(
        description="Layout name (each takes a fixed number of images), or auto.",
        json_schema_extra={"enum": ["auto", *TEMPLATES]},
    ),
]


class Settings(ToolSettings):
    """Template, canvas size, spacing, background and corner radius."""

    template: TemplateName = "auto"
    width: int = Field(2000, ge=16, le=16383, description="Canvas width in px.")
    height: int = Field(2000, ge=16, le=16383, description="Canvas height in px.")
    gap: int = Field(10, ge=0, le=1000, description="Pixels between cells and around them.")
    backgroundColor: HexColor = Field("#ffffff", description="Colour of gaps and free space.")
    borderRadius: int = Field(0, ge=0, le=5000, description="Rounded cell corners, px.")
    format: ImageFormat = Field("png", description="Output format.")
    quality: Quality | None = None


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Lay the images out in the template; see the module docstring."""
    name, cells = template_for(settings.template, len(inputs))
    imaging.check_pixels(settings.width, settings.height, ctx.max_megapixels, "the collage")
    boxes = cell_boxes(cells, settings.width, settings.height, settings.gap)
    tiles = []
    for i, (source, (_, _, w, h)) in enumerate(zip(inputs, boxes, strict=True)):
        ctx.check_cancelled()
        ctx.progress(5 + 60 * i / len(inputs), f"placing image {i + 1}")
        tiles.append(_cell_image(source, w, h, settings.borderRadius, ctx.max_megapixels))
    background = parse_color(settings.backgroundColor)
    canvas = pyvips.Image.black(settings.width, settings.height, bands=4) + list(background)
    canvas = canvas.cast("uchar").copy(interpretation="srgb")
    result = canvas.composite(tiles, "over", x=[b[0] for b in boxes], y=[b[1] for b in boxes])
    if background[3] == 255:  # every pixel is over an opaque background
        result = result.extract_band(0, n=3)
    output = imaging.write_image(result, ctx, settings.format, inputs[0], quality=settings.quality)
    output.extras.update(
        template=name, count=len(inputs), width=settings.width, height=settings.height
    )
    return output


def template_for(requested: str, count: int) -> tuple[str, list[Cell]]:
    """The template's name and cells for `count` images: 400 if a named one takes
    another count. "auto" beyond 6 images is the smallest near-square grid that holds
    them (cells left over show the background)."""
    if requested == "auto":
        if count in _AUTO:
            return _AUTO[count], TEMPLATES[_AUTO[count]]
        columns = math.ceil(math.sqrt(count))
        rows = math.ceil(count / columns)
        return f"grid-{columns}x{rows}", _grid(columns, rows)[:count]
    wanted = len(TEMPLATES[requested])
    if count != wanted:
        raise ToolError(
            "WRONG_INPUT_COUNT",
            f"template {requested} takes exactly {wanted} images, got {count}",
            400,
        )
    return requested, TEMPLATES[requested]


def cell_boxes(
    cells: list[Cell], width: int, height: int, gap: int
) -> list[tuple[int, int, int, int]]:
    """Pixel boxes (left, top, width, height) of the cells: `gap` px between and around."""
    half = gap / 2

    def edge(unit: float, length: int) -> float:
        return half + unit * (length - gap)

    boxes = []
    for x, y, w, h in cells:
        left, top = round(edge(x, width) + half), round(edge(y, height) + half)
        right, bottom = round(edge(x + w, width) - half), round(edge(y + h, height) - half)
        if right - left < 1 or bottom - top < 1:
            raise ToolError(
                "INVALID_SETTINGS",
                f"a gap of {gap} px leaves no room for the cells on a {width}x{height} canvas",
            )
        boxes.append((left, top, right - left, bottom - top))
    return boxes


def _cell_image(source: Source, width: int, height: int, radius: int, max_mp: int) -> pyvips.Image:
    """The source cover-cropped (smartcrop "attention") to the cell, RGBA, corners rounded."""
    image = colour.to_rgb(imaging.load(source, max_mp))
    image = image.thumbnail_image(width, height=height, crop="attention", size="both")
    image = image.cast("uchar")
    if not image.hasalpha():
        image = image.addalpha()
    if radius > 0:
        mask = layers.rounded_rect(width, height, radius)
        alpha = (image[3] * mask / 255).rint().cast("uchar")
        image = image.extract_band(0, n=3).bandjoin(alpha)
    return image.copy(interpretation="srgb")


TOOL = Tool(
    id="collage",
    name="Collage / Grid",
    category="layout",
    description="Lay out several images in one of 31 templates (grids, rows, mosaics, "
    "magazine, pinwheel…), smart-cropped into their cells, with gap, background and "
    "rounded corners.",
    settings=Settings,
    run=run,
    inputs=Inputs.MANY,
)
