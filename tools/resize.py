"""Resize: to a width and/or height, a percentage, or a social-media preset.

`fit` follows sharp: cover (default, as in sharp: fill the box exactly, cropping the
centre), contain (fit inside the box, pad with `background`), fill (stretch to the box),
inside (fit inside the box, no padding), outside (cover the box, no cropping). With only
a width or only a height the aspect ratio is kept and `fit` does not matter.

Speed: JPEGs are shrunk while decoding (libjpeg DCT scaling by 2/4/8 to just above the
target), then Lanczos3 does the rest; EXIF rotation is applied to the small result.
Limits: the first page/frame of multi-page files only; the output may not exceed the
same megapixel limit as the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyvips
from pydantic import Field, model_validator

from tools import imaging
from tools.base import Context, Output, Source, Tool
from tools.fields import HexColor, ImageOutputSettings, background_for

# name -> (width, height) in pixels, as the networks document them.
PRESETS: dict[str, tuple[int, int]] = {
    "instagram-square": (1080, 1080),
    "instagram-portrait": (1080, 1350),
    "instagram-story": (1080, 1920),
    "instagram-landscape": (1080, 566),
    "facebook-post": (1200, 630),
    "facebook-cover": (851, 315),
    "facebook-story": (1080, 1920),
    "x-post": (1600, 900),
    "x-header": (1500, 500),
    "linkedin-post": (1200, 627),
    "linkedin-cover": (1584, 396),
    "linkedin-profile": (400, 400),
    "youtube-thumbnail": (1280, 720),
    "youtube-banner": (2560, 1440),
    "pinterest-pin": (1000, 1500),
    "tiktok": (1080, 1920),
    "snapchat": (1080, 1920),
    "whatsapp-profile": (500, 500),
    "twitch-banner": (1200, 480),
    "discord-banner": (960, 540),
    "threads-post": (1080, 1350),
    "reddit-banner": (1920, 384),
    "tumblr-post": (1280, 1920),
}
PresetName = Literal[
    "instagram-square",
    "instagram-portrait",
    "instagram-story",
    "instagram-landscape",
    "facebook-post",
    "facebook-cover",
    "facebook-story",
    "x-post",
    "x-header",
    "linkedin-post",
    "linkedin-cover",
    "linkedin-profile",
    "youtube-thumbnail",
    "youtube-banner",
    "pinterest-pin",
    "tiktok",
    "snapchat",
    "whatsapp-profile",
    "twitch-banner",
    "discord-banner",
    "threads-post",
    "reddit-banner",
    "tumblr-post",
]
Fit = Literal["cover", "contain", "fill", "inside", "outside"]
_PRESET_SCHEMA: dict[str, Any] = {
    name: {"width": w, "height": h} for name, (w, h) in PRESETS.items()
}


class Settings(ImageOutputSettings):
    """Give width and/or height, or percentage, or preset (which sets width and height)."""

    width: int | None = Field(None, ge=1, le=16383, description="Target width in pixels.")
    height: int | None = Field(None, ge=1, le=16383, description="Target height in pixels.")
    fit: Fit = Field("cover", description="How to fit both width and height (sharp semantics).")
    percentage: float | None = Field(None, ge=1, le=1000, description="Scale, in percent.")
    withoutEnlargement: bool = Field(False, description="Never scale up.")
    preset: PresetName | None = Field(
        None, description="Social-media size.", json_schema_extra={"presets": _PRESET_SCHEMA}
    )
    background: HexColor | None = Field(
        None, description="Padding colour for fit=contain (default transparent, or white)."
    )

    @model_validator(mode="after")
    def _one_way_to_size(self) -> Settings:
        sized = self.width is not None or self.height is not None
        ways = sum((sized, self.percentage is not None, self.preset is not None))
        if ways == 0:
            raise ValueError("give width and/or height, percentage, or preset")
        if ways > 1:
            raise ValueError("use only one of width/height, percentage, or preset")
        return self


@dataclass(frozen=True)
class Plan:
    """Scale the image to `scaled`, then crop (cover) or pad (contain) to `box`."""

    scaled: tuple[int, int]
    box: tuple[int, int] | None = None
    pad: bool = False


def plan(width: int, height: int, s: Settings) -> Plan:
    """Work out the output geometry from the displayed size, without touching pixels."""
    if s.percentage is not None:
        return Plan(_scale(width, height, _limit(s.percentage / 100, s)))
    w, h = PRESETS[s.preset] if s.preset else (s.width, s.height)
    if w is None or h is None:  # one side given: keep the aspect ratio
        factor = w / width if w is not None else h / height  # type: ignore[operator]
        return Plan(_scale(width, height, _limit(factor, s)))
    if s.fit == "fill":
        if s.withoutEnlargement:
            w, h = min(w, width), min(h, height)
        return Plan((w, h))
    fits_inside = s.fit in ("inside", "contain")
    factor = _limit(min(w / width, h / height) if fits_inside else max(w / width, h / height), s)
    scaled = _scale(width, height, factor)
    if s.fit == "cover":
        return Plan(scaled, box=(min(w, scaled[0]), min(h, scaled[1])))
    if s.fit == "contain":
        return Plan(scaled, box=(w, h), pad=True)
    return Plan(scaled)  # inside, outside: the scaled image is the result


def _limit(factor: float, s: Settings) -> float:
    return min(factor, 1.0) if s.withoutEnlargement else factor


def _scale(width: int, height: int, factor: float) -> tuple[int, int]:
    return max(1, round(width * factor)), max(1, round(height * factor))


def _shrink_on_load(stored: tuple[int, int], target: tuple[int, int]) -> int:
    """The largest JPEG DCT shrink (8, 4, 2) that still leaves at least the target size."""
    for shrink in (8, 4, 2):
        if stored[0] // shrink >= target[0] and stored[1] // shrink >= target[1]:
            return shrink
    return 1


def _scaled_image(
    source: Source, ctx: Context, head: pyvips.Image, size: tuple[int, int]
) -> pyvips.Image:
    """Decode at (about) `size` and resize exactly to it, upright."""
    swap = imaging.orientation(head) >= 5
    target = (size[1], size[0]) if swap else size  # in the stored orientation
    opts: dict[str, int] = {}
    if source.format == "jpeg":
        shrink = _shrink_on_load((head.width, head.height), target)
        opts = {"shrink": shrink} if shrink > 1 else {}
    image = imaging.load(
        source, ctx.max_megapixels, access="sequential", autorotate=False, head=head, **opts
    )
    ctx.progress(30, "resizing")
    if (image.width, image.height) != target:
        image = _resample(image, target[0] / image.width, target[1] / image.height)
    return imaging.autorotate(image)


def _resample(image: pyvips.Image, hscale: float, vscale: float) -> pyvips.Image:
    """Lanczos3; alpha is premultiplied so transparent pixels don't bleed their colour."""
    if not image.hasalpha():
        return image.resize(hscale, vscale=vscale, kernel="lanczos3")
    fmt = image.format
    resized = image.premultiply().resize(hscale, vscale=vscale, kernel="lanczos3")
    return resized.unpremultiply().cast(fmt)


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Resize one image as `plan` says; see the module docstring for the semantics."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(5, "reading header")
    if source.format in imaging.PILLOW_FORMATS:  # no shrink-on-load: decode, then resize
        image = imaging.load(source, ctx.max_megapixels)
        geometry = _checked_plan(image.width, image.height, settings, ctx)
        image = _resample(image, *_factors(image, geometry.scaled))
    else:
        head = imaging.probe(source, ctx.max_megapixels, access="sequential")
        geometry = _checked_plan(*imaging.oriented_size(head), settings, ctx)
        image = _scaled_image(source, ctx, head, geometry.scaled)
    ctx.check_cancelled()
    rgba = background_for(settings.background, fmt, imaging.ALPHA_FORMATS)
    image = _fit_box(image, geometry, rgba)
    return imaging.write_image(image, ctx, fmt, source, quality=settings.quality)


def _checked_plan(width: int, height: int, settings: Settings, ctx: Context) -> Plan:
    """`plan`, refusing results over the same pixel limit as inputs (upscaling is not free)."""
    geometry = plan(width, height, settings)
    box = geometry.box or geometry.scaled
    for w, h in (geometry.scaled, box):
        imaging.check_pixels(w, h, ctx.max_megapixels, "the resized image")
    return geometry


def _factors(image: pyvips.Image, size: tuple[int, int]) -> tuple[float, float]:
    return size[0] / image.width, size[1] / image.height


def _fit_box(image: pyvips.Image, geometry: Plan, rgba: tuple[int, int, int, int]) -> pyvips.Image:
    """Crop the centre (cover) or pad around the image (contain) to the requested box."""
    if geometry.box is None or geometry.box == (image.width, image.height):
        return image
    w, h = geometry.box
    if geometry.pad:
        image, background = imaging.with_background(image, rgba)
        return image.gravity("centre", w, h, extend="background", background=background)
    return image.crop((image.width - w) // 2, (image.height - h) // 2, w, h)


TOOL = Tool(
    id="resize",
    name="Resize",
    category="essentials",
    description="Resize by width/height, percentage or a social-media preset "
    "(fit: cover, contain, fill, inside, outside).",
    settings=Settings,
    run=run,
)
