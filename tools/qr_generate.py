"""QR code generator: a styled QR code as PNG (or SVG) from text, no input file.

segno computes the symbol (the smallest version that holds `data` at the asked error
correction level, with the mask segno picks). The modules are then drawn here as SVG:
`dotStyle` shapes the data modules (square, rounded squares, or round dots) and
`cornerStyle` the three finder patterns (square or rounded rings), which are always
drawn solid so scanners find them. PNG output is that SVG rasterised by libvips
(librsvg) to exactly `size` x `size` pixels, anti-aliased; SVG output is the drawing.

`margin` is the quiet zone in modules (4 is what the standard asks for; less may not
scan everywhere). Colours are "#rrggbb"/"#rrggbbaa"; `colorLight` may be "transparent".
Dark and light must differ enough to scan: a WCAG contrast ratio of at least 2 on white.

Limits: `data` 1..2953 characters, and what fits the level (2953 bytes at L, 1273 at H;
non-Latin text takes 2-3 bytes a character) - more is a 400 DATA_TOO_LONG. `size` 64..4096
px; at a size below ~2 px per module the code may not scan.

An optional uploaded image is placed in the centre as a logo, `logoSize` percent of the
symbol's width (at most 30, so at most 9 % of its area), on a pad of the light colour.
With a logo the error correction is always H (30 % may be lost), whatever was asked.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from importlib import metadata
from typing import Literal

import pyvips
import segno
from pydantic import Field

from tools import imaging
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolError, ToolSettings
from tools.fields import RGBA, HexColor, parse_color

_FINDER = 7
_DOT_SHAPES = {
    "square": '<rect x="{x}" y="{y}" width="1" height="1"/>',
    "rounded": '<rect x="{x}.05" y="{y}.05" width="0.9" height="0.9" rx="0.3"/>',
    "dots": '<circle cx="{x}.5" cy="{y}.5" r="0.45"/>',
}
_MIN_CONTRAST = 2.0


class Settings(ToolSettings):
    """What to encode and how the symbol looks."""

    data: str = Field(min_length=1, max_length=2953, description="Text or URL to encode.")
    size: int = Field(512, ge=64, le=4096, description="Width and height of the PNG in px.")
    margin: int = Field(4, ge=0, le=16, description="Quiet zone around the code, in modules.")
    colorDark: HexColor = Field("#000000", description="Colour of the dark modules.")
    colorLight: HexColor = Field("#ffffff", description="Background colour, or transparent.")
    errorCorrectionLevel: Literal["L", "M", "Q", "H"] = Field(
        "M", description="Share of the code that may be damaged: L 7%, M 15%, Q 25%, H 30%."
    )
    dotStyle: Literal["square", "rounded", "dots"] = Field("square", description="Data modules.")
    cornerStyle: Literal["square", "rounded"] = Field("square", description="Finder patterns.")
    format: Literal["png", "svg"] = Field("png", description="PNG raster or SVG vector.")
    logoSize: int = Field(20, ge=5, le=30, description="Logo width, % of the symbol (with a file).")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Encode `data` and draw the styled symbol; see the module docstring."""
    dark, light = parse_color(settings.colorDark), parse_color(settings.colorLight)
    _check_contrast(dark, light)
    logo = _logo_png(inputs[0], ctx) if inputs else None
    level = "H" if logo else settings.errorCorrectionLevel  # the logo hides modules
    try:
        qr = segno.make(settings.data, error=level, boost_error=False, micro=False)
    except segno.DataOverflowError as exc:
        hint = "less text (a logo needs level H)" if logo else "a lower level or less text"
        raise ToolError(
            "DATA_TOO_LONG", f"data does not fit a QR code at level {level}: use {hint}"
        ) from exc
    ctx.progress(40, "drawing")
    svg = draw_svg([list(map(bool, row)) for row in qr.matrix], settings, dark, light)
    if logo:
        svg = _with_logo(svg, logo, len(qr.matrix), settings, light)
    extras = {"version": qr.version, "modules": len(qr.matrix), "errorCorrection": qr.error}
    engine = f"segno {metadata.version('segno')} + SVG drawing"
    if settings.format == "svg":
        path = imaging.output_path(ctx, "svg")
        path.write_bytes(svg.encode())
        return Output.file(OutputKind.IMAGE, path, "qr.svg", engine, **extras)
    image = pyvips.Image.svgload_buffer(svg.encode(), unlimited=False)
    if light[3] == 255 and dark[3] == 255:
        image = image.flatten(background=list(light[:3]))
    path = imaging.save(image, imaging.output_path(ctx, "png"), "png")
    engine += f" rasterised by {imaging.engine_name()} (librsvg)"
    return Output.file(OutputKind.IMAGE, path, "qr.png", engine, **extras)


def draw_svg(matrix: list[list[bool]], settings: Settings, dark: RGBA, light: RGBA) -> str:
    """The symbol as an SVG document; one user unit is one module."""
    n, margin = len(matrix), settings.margin
    total = n + 2 * margin
    finders = [(0, 0), (n - _FINDER, 0), (0, n - _FINDER)]
    crisp = ' shape-rendering="crispEdges"' if settings.dotStyle == "square" else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{settings.size}" '
        f'height="{settings.size}" viewBox="0 0 {total} {total}">'
    ]
    if light[3]:
        parts.append(f'<rect width="{total}" height="{total}" {_fill(light)}/>')
    parts.append(f"<g {_fill(dark)}{crisp}>")
    shape = _DOT_SHAPES[settings.dotStyle]
    for y, row in enumerate(matrix):
        for x, on in enumerate(row):
            if on and not _in_finder(x, y, n):
                parts.append(shape.format(x=x + margin, y=y + margin))
    parts.append("</g>")
    for fx, fy in finders:
        parts.append(_finder(fx + margin, fy + margin, settings.cornerStyle, dark))
    parts.append("</svg>")
    return "".join(parts)


def _logo_png(source: Source, ctx: Context) -> bytes:
    """The logo, upright and at most 512 px, as PNG (decoded through the usual guards)."""
    image = imaging.load(source, ctx.max_megapixels)
    return bytes(image.thumbnail_image(512, height=512).write_to_buffer(".png"))


def _with_logo(svg: str, logo: bytes, n: int, settings: Settings, light: RGBA) -> str:
    """Centre the logo on a light pad, `logoSize` % of the symbol wide, inside the SVG."""
    side = n * settings.logoSize / 100
    corner = settings.margin + (n - side) / 2
    pad = light if light[3] == 255 else (255, 255, 255, 255)
    data = base64.b64encode(logo).decode()
    overlay = (
        f'<rect x="{corner - 0.5}" y="{corner - 0.5}" width="{side + 1}" height="{side + 1}" '
        f'rx="0.5" {_fill(pad)}/>'
        f'<image x="{corner}" y="{corner}" width="{side}" height="{side}" '
        f'preserveAspectRatio="xMidYMid meet" href="data:image/png;base64,{data}"/>'
    )
    return svg.removesuffix("</svg>") + overlay + "</svg>"


def _in_finder(x: int, y: int, n: int) -> bool:
    """Whether a module belongs to a finder pattern (7x7 at three corners)."""
    left, top = x < _FINDER, y < _FINDER
    right, bottom = x >= n - _FINDER, y >= n - _FINDER
    return (left and top) or (right and top) or (left and bottom)


def _finder(x: int, y: int, style: str, dark: RGBA) -> str:
    """A 7x7 ring (even-odd path: outer square minus the inner 5x5) and the 3x3 eye."""
    if style == "rounded":
        ring = _rounded(x, y, 7, 2.0) + _rounded(x + 1, y + 1, 5, 1.4)
        eye = f'<rect x="{x + 2}" y="{y + 2}" width="3" height="3" rx="1" {_fill(dark)}/>'
    else:
        ring = f"M{x} {y}h7v7h-7z M{x + 1} {y + 1}h5v5h-5z"
        eye = f'<rect x="{x + 2}" y="{y + 2}" width="3" height="3" {_fill(dark)}/>'
    return f'<path fill-rule="evenodd" d="{ring}" {_fill(dark)}/>{eye}'


def _rounded(x: float, y: float, side: float, r: float) -> str:
    """Path data of a square with rounded corners of radius `r`."""
    inner = side - 2 * r
    return (
        f"M{x + r} {y}h{inner}a{r} {r} 0 0 1 {r} {r}v{inner}a{r} {r} 0 0 1 {-r} {r}"
        f"h{-inner}a{r} {r} 0 0 1 {-r} {-r}v{-inner}a{r} {r} 0 0 1 {r} {-r}z "
    )


def _fill(rgba: RGBA) -> str:
    r, g, b, a = rgba
    return f'fill="#{r:02x}{g:02x}{b:02x}" fill-opacity="{a / 255:.3f}"'


def _check_contrast(dark: RGBA, light: RGBA) -> None:
    """Refuse colours a scanner cannot tell apart (seen on white where transparent)."""
    ratio = _contrast(_on_white(dark), _on_white(light))
    if ratio < _MIN_CONTRAST:
        raise ToolError(
            "LOW_CONTRAST",
            f"colorDark and colorLight are too alike to scan (contrast {ratio:.2f}:1, "
            f"at least {_MIN_CONTRAST}:1 needed)",
        )


def _on_white(rgba: RGBA) -> tuple[float, float, float]:
    alpha = rgba[3] / 255
    r, g, b = (c * alpha + 255 * (1 - alpha) for c in rgba[:3])
    return (r, g, b)


def _contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


TOOL = Tool(
    id="qr-generate",
    name="QR Code Generator",
    category="utilities",
    description="Make a styled QR code (dots, rounded corners, colours) as PNG or SVG "
    "from text; error correction L/M/Q/H.",
    settings=Settings,
    run=run,
    inputs=Inputs.OPTIONAL,
)
