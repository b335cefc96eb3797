"""SVG to raster: sanitise an SVG, then render it with librsvg (libvips svgload).

Sanitising comes first, on the XML, before librsvg sees a byte:

- parsed by defusedxml: a DTD may be present, but entity declarations (billion laughs,
  external entities) are refused with UNSAFE_SVG (400);
- `<script>`, `<foreignObject>` and XInclude elements are removed, and every `on*`
  event attribute;
- every external reference is removed: `href`/`xlink:href`/`src` values that are not a
  fragment (`#id`) or an embedded raster (`data:image/png|jpeg|gif|webp`), and any
  `url(...)` in attributes or `<style>` text that is not `#id` or such a data URI becomes
  `none`; `@import` rules are dropped. Embedded `data:image/svg+xml` is removed too: a
  nested SVG would escape this sanitiser. Processing instructions (`xml-stylesheet`)
  and comments are not kept by the parser.

The clean XML is rendered from memory (no base path, so librsvg has nothing to resolve
against either). Limits: 10 MB of SVG; the rendered size is checked against the
megapixel limit before rendering. `width` and/or `height` fit the drawing inside that
box keeping its aspect ratio; otherwise `scale` multiplies the drawing's own size at
`dpi`. As in libvips, `dpi` scales the whole drawing by dpi/72: at 72 one SVG px is one
pixel (and 1in is 72 px); with width/height given it does not change the result.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import metadata
from xml.etree import ElementTree as ET  # serialising only: defusedxml parses

import pyvips
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from pydantic import Field, model_validator

from tools import imaging
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings
from tools.fields import HexColor, ImageFormat, parse_color

MAX_SVG_BYTES = 10_000_000
_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_DROPPED_ELEMENTS = {"script", "foreignobject", "include", "handler", "listener"}
_LINK_ATTRIBUTES = {"href", "src"}
_SAFE_DATA = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp)[;,]", re.IGNORECASE)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)

ET.register_namespace("", _SVG_NS)
ET.register_namespace("xlink", _XLINK_NS)


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


class Sanitised:
    """The clean XML and what was taken out of it."""

    def __init__(self, xml: bytes, elements: int, references: int, handlers: int) -> None:
        self.xml = xml
        self.removed = {"elements": elements, "references": references, "handlers": handlers}


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _is_safe_link(value: str) -> bool:
    value = value.strip()
    return value.startswith("#") or bool(_SAFE_DATA.match(value))


def _clean_urls(text: str) -> tuple[str, int]:
    """Replace `url(...)` pointing outside the document with `none`; drop `@import`."""
    count = len(_IMPORT.findall(text))
    text = _IMPORT.sub("", text)

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if _is_safe_link(match.group(2)):
            return match.group(0)
        count += 1
        return "none"

    return _URL.sub(replace, text), count


def sanitise(data: bytes) -> Sanitised:
    """Parse without entity expansion and strip scripts, handlers and external references."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ToolError(
            "UNSAFE_SVG", f"the SVG declares entities or external resources ({exc})", 400
        ) from exc
    except ET.ParseError as exc:
        raise ToolError("CORRUPT_IMAGE", f"the SVG is not well-formed XML: {exc}", 422) from exc
    if _local(root.tag) != "svg":
        raise ToolError("CORRUPT_IMAGE", "the document's root element is not <svg>", 422)
    elements = references = handlers = 0
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str):
                continue
            if _local(child.tag) in _DROPPED_ELEMENTS or child.tag.startswith(
                f"{{{_XINCLUDE_NS}}}"
            ):
                parent.remove(child)
                elements += 1
    for element in root.iter():
        for name, value in list(element.attrib.items()):
            local = _local(name)
            if local.startswith("on"):
                del element.attrib[name]
                handlers += 1
            elif local in _LINK_ATTRIBUTES and not _is_safe_link(value):
                del element.attrib[name]
                references += 1
            elif "url(" in value.lower():
                element.attrib[name], found = _clean_urls(value)
                references += found
        if _local(str(element.tag)) == "style" and element.text:
            element.text, found = _clean_urls(element.text)
            references += found
    return Sanitised(ET.tostring(root, encoding="utf-8"), elements, references, handlers)


def _target_scale(width: int, height: int, s: Settings) -> float:
    """The factor from the drawing's own size (at `dpi`) to the requested one."""
    if s.width is None and s.height is None:
        return s.scale or 1.0
    factors = [t / n for t, n in ((s.width, width), (s.height, height)) if t is not None]
    return min(factors)


def _render(svg: bytes, s: Settings, ctx: Context, name: str) -> pyvips.Image:
    """Render at the requested size, refusing it first if it is over the pixel limit."""
    try:
        head = pyvips.Image.svgload_buffer(svg, dpi=s.dpi, access="sequential")
    except pyvips.Error as exc:
        reason = imaging.vips_message(exc, default="not a valid SVG")
        raise ToolError("CORRUPT_IMAGE", f"{name} could not be rendered: {reason}", 422) from exc
    factor = _target_scale(head.width, head.height, s)
    size = (max(1, round(head.width * factor)), max(1, round(head.height * factor)))
    if s.width is not None and s.height is None:
        size = (s.width, size[1])
    elif s.height is not None and s.width is None:
        size = (size[0], s.height)
    imaging.check_pixels(*size, ctx.max_megapixels, f"{name} rendered")
    image = pyvips.Image.svgload_buffer(svg, dpi=s.dpi, scale=factor, unlimited=False)
    if (image.width, image.height) != size:  # librsvg rounds differently by a pixel
        image = image.resize(size[0] / image.width, vscale=size[1] / image.height)
    return image


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Sanitise the SVG, render it at the requested size and encode it."""
    source = inputs[0]
    if source.format != "svg":
        raise ToolError("NOT_SVG", f"{source.name} is not an SVG (detected: {source.format})", 400)
    if source.size > MAX_SVG_BYTES:
        raise ToolError("IMAGE_TOO_LARGE", f"{source.name} is over 10 MB of SVG", 413)
    ctx.progress(5, "sanitising")
    clean = sanitise(source.path.read_bytes())
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
