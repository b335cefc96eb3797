"""Layers for the watermark & overlay tools: text rendering, placement, compositing.

Text is laid out by Pango (through libvips `text`) with a font file shipped in
`tools/fonts/`, so every machine renders the same glyphs, anti-aliased, with full Unicode
shaping (right-to-left, combining marks). Characters the shipped font lacks fall back to
whatever fonts the system has (CJK needs a system font such as Noto CJK).

Layers are RGBA, 8-bit sRGB, not premultiplied; `place` lays one over an image with
libvips `composite2`, whose blend modes are the PDF/Cairo ones.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Annotated, Literal

import pyvips
from pydantic import AfterValidator, Field

from tools import colour, imaging
from tools.base import Source, ToolError, ToolSettings
from tools.fields import RGBA, Anchor

_FONT_DIR = Path(__file__).resolve().parent / "fonts"
# Shipped fonts by the name callers use; the value is (Pango family, file).
FONTS: dict[str, tuple[str, Path]] = {
    "DejaVu Sans": ("DejaVu Sans", _FONT_DIR / "DejaVuSans.ttf"),
}
FontName = Literal["DejaVu Sans"]
# Added to the libvips engine string of tools that set text.
TEXT_ENGINE = " + Pango (DejaVu Sans, shipped)"
Position = Literal[Anchor, "custom"]


class AtAnchor(ToolSettings):
    """At one of nine anchors (the default bottom-right), `margin` px from the edges."""

    position: Anchor = Field("bottom-right", description="Anchor.")
    margin: int = Field(20, ge=0, le=5000, description="Distance from the edges, px.")


class AtPoint(ToolSettings):
    """The layer's top-left corner at (`x`, `y`)."""

    position: Literal["custom"]
    x: int = Field(0, ge=-16383, le=16383, description="Left edge, px.")
    y: int = Field(0, ge=-16383, le=16383, description="Top edge, px.")


# Where each anchor puts a layer, as fractions of the free space (x, y).
_ANCHORS: dict[str, tuple[float, float]] = {
    "top-left": (0, 0),
    "top-center": (0.5, 0),
    "top-right": (1, 0),
    "center-left": (0, 0.5),
    "center": (0.5, 0.5),
    "center-right": (1, 0.5),
    "bottom-left": (0, 1),
    "bottom-center": (0.5, 1),
    "bottom-right": (1, 1),
}
BlendMode = Literal[
    "over",
    "multiply",
    "screen",
    "overlay",
    "darken",
    "lighten",
    "colour-dodge",
    "colour-burn",
    "hard-light",
    "soft-light",
    "difference",
    "exclusion",
    "add",
    "saturate",
]
# Pango refuses absurd layouts slowly; these bound the work per request.
MAX_TEXT = 500
MAX_FONT_SIZE = 1000


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("text must not be empty")
    return text


Text = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TEXT, description="The text; newlines start new lines."),
    AfterValidator(_not_blank),
]
FontSize = Annotated[int, Field(ge=4, le=MAX_FONT_SIZE, description="Font size in pixels.")]
Opacity = Annotated[float, Field(ge=0, le=100, description="Opacity in percent.")]


def text_mask(text: str, font: str, size_px: int) -> pyvips.Image:
    """Anti-aliased coverage (one uchar band, 0..255) of `text` set in a shipped font.

    The text is escaped: Pango markup in user text is shown, not interpreted.
    """
    family, path = FONTS[font]
    try:  # at 72 dpi one point is one pixel
        mask = pyvips.Image.text(
            html.escape(text, quote=False), font=f"{family} {size_px}", fontfile=str(path), dpi=72
        )
    except pyvips.Error as exc:
        raise ToolError("INVALID_SETTINGS", f"text cannot be rendered: {exc}", 400) from exc
    return mask


def solid(mask: pyvips.Image, rgba: RGBA, opacity: float = 100) -> pyvips.Image:
    """An RGBA layer of colour `rgba` whose alpha is `mask` scaled by the colour's alpha
    and `opacity` (percent)."""
    r, g, b, a = rgba
    alpha = (mask * (a / 255 * opacity / 100)).rint().cast("uchar")
    layer = mask.new_from_image([r, g, b]).cast("uchar").bandjoin(alpha)
    return layer.copy(interpretation="srgb")


def rounded_rect(width: int, height: int, radius: int) -> pyvips.Image:
    """An anti-aliased coverage mask of a rounded rectangle (librsvg draws the curves)."""
    radius = min(radius, width // 2, height // 2)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="{width}" height="{height}" rx="{radius}" fill="#fff"/></svg>'
    )
    return pyvips.Image.svgload_buffer(svg.encode())[3]


def with_opacity(layer: pyvips.Image, opacity: float) -> pyvips.Image:
    """`layer` (any image) as 8-bit sRGB + alpha, its alpha scaled by `opacity` percent."""
    layer = colour.to_rgb(layer)
    if not layer.hasalpha():
        layer = layer.addalpha()
    if opacity >= 100:
        return layer
    alpha = (layer[3] * (opacity / 100)).rint().cast("uchar")
    return layer.extract_band(0, n=3).bandjoin(alpha)


def rotated(layer: pyvips.Image, degrees: float) -> pyvips.Image:
    """`layer` turned clockwise by `degrees` on a transparent canvas that holds it all.

    Premultiplied while resampled, so transparent pixels do not bleed their colour.
    """
    if degrees % 360 == 0:
        return layer
    turned = layer.premultiply().rotate(degrees, background=[0, 0, 0, 0])
    return turned.unpremultiply().cast("uchar").copy(interpretation="srgb")


def anchor(
    base: tuple[int, int], layer: tuple[int, int], position: str, margin: int
) -> tuple[int, int]:
    """Top-left corner of a `layer`-sized box at an anchor, `margin` px from the edges."""
    fx, fy = _ANCHORS[position]
    free_x = base[0] - layer[0] - 2 * margin
    free_y = base[1] - layer[1] - 2 * margin
    return round(margin + fx * free_x), round(margin + fy * free_y)


def place(
    base: pyvips.Image, layer: pyvips.Image, x: int, y: int, mode: str = "over"
) -> pyvips.Image:
    """`layer` (RGBA) composited over `base` with its top-left at (x, y); the result keeps
    `base`'s size, and its alpha only if `base` had one (an opaque base stays opaque)."""
    base = colour.to_rgb(base)
    had_alpha = base.hasalpha()
    result = base.composite2(layer, mode, x=x, y=y)
    result = result.cast("uchar").copy(interpretation="srgb")
    return result if had_alpha else result.extract_band(0, n=3)


def tiled(layer: pyvips.Image, size: tuple[int, int], gap: int) -> pyvips.Image:
    """`layer` repeated with `gap` px between copies over a canvas of `size`."""
    cell = layer.embed(0, 0, layer.width + gap, layer.height + gap, background=[0, 0, 0, 0])
    across = -(-size[0] // cell.width) + 1
    down = -(-size[1] // cell.height) + 1
    wall = cell.replicate(across, down)
    # Offset by half a cell so the pattern does not start flush with the corner.
    return wall.crop(cell.width // 2, cell.height // 2, size[0], size[1])


def load_rgb(source: Source, max_megapixels: int) -> pyvips.Image:
    """A source decoded to 8-bit sRGB (alpha kept), ready to take layers."""
    return colour.to_rgb(imaging.load(source, max_megapixels))
