"""Crop: a pixel box, a centred box of an aspect ratio, optionally a circle or rounded shape.

Coordinates are in the image as displayed (after EXIF orientation). The box is `left`,
`top`, `width`, `height`; a missing `left`/`top` centres the box on that axis, a missing
`width`/`height` runs to the edge. `aspectRatio` ("16:9", "4/3" or a number) with no size
takes the largest centred box of that ratio; with one side given it derives the other.
`shape` circle is the ellipse inscribed in the box (a circle when the box is square; with
no box at all, the largest centred circle), rounded uses `borderRadius` pixels (default a
tenth of the shorter side; only rounded takes it). Shaped crops need alpha: they come out
as PNG, or WebP for a WebP input; rectangles keep the input's format.
Limits: the first page/frame of multi-page files only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import pyvips
from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from tools import imaging
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings
from tools.fields import TRANSPARENT, ModeSettings

_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[:/x]\s*(\d+(?:\.\d+)?)\s*$")


def _parse_ratio(value: Any) -> Any:
    """ "16:9", "16/9", "16x9" or "1.78" -> 1.777...; numbers pass through."""
    if not isinstance(value, str):
        return value
    match = _RATIO.match(value)
    if match is None:
        return value.strip()  # float parsing reports the error
    numerator, denominator = float(match.group(1)), float(match.group(2))
    if denominator == 0:
        raise ValueError("the ratio's second number must not be 0")
    return numerator / denominator


AspectRatio = Annotated[
    float,
    BeforeValidator(_parse_ratio),
    Field(ge=0.01, le=100),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0.01, "maximum": 100},
                {"type": "string", "pattern": r"^\d+(\.\d+)?\s*[:/x]\s*\d+(\.\d+)?$"},
            ],
            "description": 'Width:height, e.g. "16:9" or 1.5.',
        }
    ),
]


class _Box(ToolSettings):
    """The box every shape is cut from: pixels and/or an aspect ratio."""

    left: int | None = Field(None, ge=0, description="Left edge; default: centred.")
    top: int | None = Field(None, ge=0, description="Top edge; default: centred.")
    width: int | None = Field(None, ge=1, le=1_000_000, description="Default: to the edge.")
    height: int | None = Field(None, ge=1, le=1_000_000, description="Default: to the edge.")
    aspectRatio: AspectRatio | None = None

    @model_validator(mode="after")
    def _ratio_or_size(self) -> _Box:
        if self.aspectRatio is not None and self.width is not None and self.height is not None:
            raise ValueError("aspectRatio cannot be combined with both width and height")
        return self


class CropRectangle(_Box):
    """The default shape: the box itself, which must be given in some way."""

    shape: Literal["rectangle"] = "rectangle"

    @model_validator(mode="after")
    def _something_to_crop(self) -> CropRectangle:
        given = (self.left, self.top, self.width, self.height, self.aspectRatio)
        if all(v is None for v in given):
            raise ValueError("give a box (left, top, width, height) or an aspectRatio")
        return self


class CropCircle(_Box):
    """The ellipse inscribed in the box; with no box, the largest centred circle."""

    shape: Literal["circle"]


class CropRounded(_Box):
    """The box with rounded corners; with no box, the whole image."""

    shape: Literal["rounded"]
    borderRadius: int | None = Field(
        None, ge=0, description="Corner radius in pixels; default a tenth of the shorter side."
    )


Shape = CropRectangle | CropCircle | CropRounded


class Settings(ModeSettings[Annotated[Shape, Field(discriminator="shape")]]):
    """A box in pixels and/or an aspect ratio, cut as the `shape` (left out: rectangle).

    One model per shape, so `borderRadius` is refused unless the shape is rounded.
    """

    default_mode = "rectangle"


Box = tuple[int, int, int, int]


def crop_box(width: int, height: int, s: Shape) -> Box:
    """(left, top, w, h) inside a `width` x `height` image; raises CROP_OUT_OF_BOUNDS."""
    room_w, room_h = width - (s.left or 0), height - (s.top or 0)
    w, h = s.width, s.height
    if s.aspectRatio is not None:
        w, h = _ratio_size(room_w, room_h, w, h, s.aspectRatio)
    elif s.shape == "circle" and w is None and h is None:
        w = h = min(room_w, room_h)
    w = room_w if w is None else w
    h = room_h if h is None else h
    left = (width - w) // 2 if s.left is None else s.left
    top = (height - h) // 2 if s.top is None else s.top
    if w < 1 or h < 1 or left < 0 or top < 0 or left + w > width or top + h > height:
        raise ToolError(
            "CROP_OUT_OF_BOUNDS",
            f"the crop {w}x{h} at ({left}, {top}) is not inside the {width}x{height} image",
            400,
        )
    return left, top, w, h


def _ratio_size(
    room_w: int, room_h: int, w: int | None, h: int | None, ratio: float
) -> tuple[int, int]:
    """Complete a size from an aspect ratio; with no size, the largest that fits the room."""
    if w is not None:
        return w, max(1, round(w / ratio))
    if h is not None:
        return max(1, round(h * ratio)), h
    w = min(room_w, round(room_h * ratio))
    return w, min(room_h, round(w / ratio))


def _mask(width: int, height: int, shape: str, radius: int | None) -> pyvips.Image:
    """An anti-aliased one-band 8-bit mask of the shape, drawn by librsvg."""
    if shape == "circle":
        body = f'<ellipse cx="{width / 2}" cy="{height / 2}" rx="{width / 2}" ry="{height / 2}"'
    else:
        r = min(radius if radius is not None else round(min(width, height) / 10), width, height)
        body = f'<rect width="{width}" height="{height}" rx="{r}" ry="{r}"'
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'{body} fill="#fff"/></svg>'
    )
    return pyvips.Image.svgload_buffer(svg.encode())[3]


def _apply_mask(image: pyvips.Image, mask: pyvips.Image) -> pyvips.Image:
    """Cut the image to the mask: multiply an existing alpha, or add the mask as alpha."""
    image, _ = imaging.with_background(image, TRANSPARENT)  # ensures an alpha band
    colour = image.extract_band(0, n=image.bands - 1)
    alpha = (image[image.bands - 1] * (mask / 255.0)).cast(image.format)
    return colour.bandjoin(alpha)


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Crop one image to the box (and shape) the settings describe."""
    shape = settings.root
    source = inputs[0]
    ctx.progress(5, "reading header")
    image = imaging.load(source, ctx.max_megapixels)
    left, top, w, h = crop_box(image.width, image.height, shape)
    image = image.crop(left, top, w, h)
    ctx.progress(40, "cropping")
    if isinstance(shape, CropRectangle):
        fmt = imaging.output_format(None, source.format)
    else:
        radius = shape.borderRadius if isinstance(shape, CropRounded) else None
        image = _apply_mask(image, _mask(w, h, shape.shape, radius))
        fmt = "webp" if source.format == "webp" else "png"
    return imaging.write_image(image, ctx, fmt, source)


TOOL = Tool(
    id="crop",
    name="Crop",
    category="essentials",
    description="Crop to a box or an aspect ratio, as a rectangle, circle or rounded shape.",
    settings=Settings,
    run=run,
)
