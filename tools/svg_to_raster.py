"""SVG to raster: sanitise an SVG, then render it with librsvg (libvips svgload).

Sanitising comes first, on the XML, before librsvg sees a byte: `svg_sanitise` (shared
with every tool that reads SVG) refuses entities (UNSAFE_SVG), strips scripts,
foreignObject, event handlers and every external reference, and refuses drawings whose
work is out of proportion (SVG_TOO_COMPLEX: `<use>` bombs, filter abuse); see there.

The clean XML is rendered from memory (no base path, so librsvg has nothing to resolve
against either) by `svg_render`, in a child process with CPU, memory and time limits
(RENDER_TIMEOUT past the time limit; a cancelled job kills the render). Limits: 10 MB of
SVG; the rendered size is checked against the megapixel limit before rendering. `width`
and/or `height` fit the drawing inside that box keeping its aspect ratio; otherwise
`scale` multiplies the drawing's own size at `dpi`. As in libvips, `dpi` scales the
whole drawing by dpi/72: at 72 one SVG px is one pixel (and 1in is 72 px); with
width/height given it does not change the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

import pyvips
from pydantic import Field, model_validator

from tools import imaging, svg_render, svg_sanitise
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings
from tools.fields import HexColor, ImageFormat, parse_color


class Settings(ToolSettings):
    """Output format, size (width/height box, or scale at a dpi) and background."""

    format: ImageFormat = Field("png", description="Output format.")
    width: int | None = Field(None, ge=1, le=16383, description="Fit inside this width (px).")
    height: int | None = Field(None, ge=1, le=16383, description="Fit inside this height (px).")
    scale: float | None = Field(
        None, gt=0, le=50, description="Multiply the drawing's own size (default 1)."
    )
    dpi: float = Field(
        72, ge=10, le=1200, description="Resolution: 72 draws one SVG px as one pixel."
    )
    background: HexColor | None = Field(
        None, description="Fill behind the drawing (default transparent; white for jpeg)."
    )

    @model_validator(mode="after")
    def _one_way_to_size(self) -> Settings:
        if self.scale is not None and (self.width is not None or self.height is not None):
            raise ValueError("use width/height or scale, not both")
        return self


def _target_scale(width: int, height: int, s: Settings) -> float:
    """The factor from the drawing's own size (at `dpi`) to the requested one."""
    if s.width is None and s.height is None:
        return s.scale or 1.0
    factors = [t / n for t, n in ((s.width, width), (s.height, height)) if t is not None]
    return min(factors)


def _render(svg: bytes, s: Settings, ctx: Context, name: str) -> pyvips.Image:
    """Render at the requested size, refusing it first if it is over the pixel limit."""
    if s.width is None and s.height is None:  # the child sizes and checks it: one start
        return imaging.render_svg(
            svg, name, ctx.max_megapixels, dpi=s.dpi, scale=s.scale or 1.0, ctx=ctx
        )
    head = svg_render.header(svg, name, dpi=s.dpi, ctx=ctx)
    factor = _target_scale(head.width, head.height, s)
    size = (max(1, round(head.width * factor)), max(1, round(head.height * factor)))
    if s.width is not None and s.height is None:
        size = (s.width, size[1])
    elif s.height is not None and s.width is None:
        size = (size[0], s.height)
    imaging.check_pixels(*size, ctx.max_megapixels, f"{name} rendered")
    image = imaging.render_svg(svg, name, ctx.max_megapixels, dpi=s.dpi, scale=factor, ctx=ctx)
    if (image.width, image.height) != size:  # librsvg rounds differently by a pixel
        image = image.resize(size[0] / image.width, vscale=size[1] / image.height)
    return image


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Sanitise the SVG, render it at the requested size and encode it."""
    source = inputs[0]
    if source.format != "svg":
        raise ToolError("NOT_SVG", f"{source.name} is not an SVG (detected: {source.format})", 400)
    ctx.progress(5, "sanitising")
    clean = svg_sanitise.read(source)
    ctx.check_cancelled()
    ctx.progress(20, "rendering")
    image = _render(clean.xml, settings, ctx, source.name)
    if settings.background is not None:
        r, g, b, a = parse_color(settings.background)
        under = image.new_from_image([r, g, b, a]).copy(interpretation="srgb")
        image = under.composite2(image, "over")
    output = imaging.write_image(image, ctx, settings.format, source)
    output.engine = f"{output.engine} (librsvg) + defusedxml {metadata.version('defusedxml')}"
    output.extras["removed"] = clean.removed
    return output


TOOL = Tool(
    id="svg-to-raster",
    name="SVG to Raster",
    category="format",
    description="Render a sanitised SVG (no scripts, no external references, no entity "
    "expansion) to PNG, JPEG, WebP, AVIF, TIFF, GIF or HEIC.",
    settings=Settings,
    run=run,
)
