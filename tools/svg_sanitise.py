"""The one sanitiser every SVG goes through before librsvg sees a byte.

Every tool that decodes an SVG (svg-to-raster, and resize, convert & co. through
`imaging`) gets the same treatment, on the XML:

- parsed by defusedxml: a DTD may be present, but entity declarations (billion laughs,
  external entities) are refused with UNSAFE_SVG (400);
- `<script>`, `<foreignObject>` and XInclude elements are removed, and every `on*`
  event attribute;
- every external reference is removed: `href`/`xlink:href`/`src` values that are not a
  fragment (`#id`) or an embedded raster (`data:image/png|jpeg|gif|webp`), and any
  `url(...)` in attributes or `<style>` text that is not `#id` or such a data URI becomes
  `none`; `@import` rules are dropped. Embedded `data:image/svg+xml` is removed too: a
  nested SVG would escape this sanitiser. Processing instructions (`xml-stylesheet`)
  and comments are not kept by the parser;
- the work the drawing asks for is bounded (SVG_TOO_COMPLEX, 422; a reference cycle is
  UNSAFE_SVG, 400): see the limits below. They stop the amplifiers (one element drawn
  a million times through nested `<use>`, absurd filter settings) in milliseconds; what
  a drawing of honest size costs is bounded by the render's time limit (`svg_render`).
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET  # serialising only: defusedxml parses

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from tools.base import Source, ToolError

# An upload this big is not an SVG we want to parse.
MAX_SVG_BYTES = 10_000_000
# Elements drawn, counting every element a reference brings in each time it is used
# (`<use>`, patterns, markers, masks, clip paths, filters). Icons and logos have tens,
# illustrations and Inkscape exports a few thousand, detailed maps tens of thousands;
# the nested-<use> bomb has millions. librsvg's own caps (a million elements loaded,
# half a million references per render pass) are too high: 100,000 copies of one
# full-canvas path already took 45 s to draw.
MAX_ELEMENTS = 100_000
# Nesting of elements and references: Inkscape's layers and groups rarely pass 30. It also
# keeps the serialiser (recursive) and librsvg's recursion far from their stacks' ends.
MAX_DEPTH = 200
# Primitives in one <filter>: Inkscape's most elaborate stock filters use about 20. Each
# primitive is a pass over (and a surface the size of) the filter region.
MAX_FILTER_PRIMITIVES = 50
# feTurbulence octave k adds noise of amplitude 2^-k: past 8 no 8-bit pixel changes by
# more than one level, so larger values are clamped, not refused. (This librsvg already
# stops paying for octaves past about 10; the clamp does not rely on that.)
MAX_TURBULENCE_OCTAVES = 8
# feConvolveMatrix costs order^2 per pixel (measured: order 15 took 3.4 s per megapixel,
# 20 took 6.4 s). Sharpen, emboss and edge kernels are 3x3 or 5x5.
MAX_CONVOLVE_ORDER = 9
# Not bounded, because measured not to matter here: feGaussianBlur's stdDeviation (librsvg
# blurs with box filters, 3 to 1e9 cost the same) and feMorphology's radius (cost stops
# growing past about 30).

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_DROPPED_ELEMENTS = {"script", "foreignobject", "include", "handler", "listener"}
_LINK_ATTRIBUTES = {"href", "src"}
# Referenced by many elements at no extra drawing cost: a gradient paints, it draws nothing.
_PAINT_ONLY = {"lineargradient", "radialgradient"}
_SAFE_DATA = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp)[;,]", re.IGNORECASE)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)

ET.register_namespace("", _SVG_NS)
ET.register_namespace("xlink", _XLINK_NS)


class Sanitised:
    """The clean XML and what was taken out of it."""

    def __init__(self, xml: bytes, elements: int, references: int, handlers: int) -> None:
        self.xml = xml
        self.removed = {"elements": elements, "references": references, "handlers": handlers}


def read(source: Source) -> Sanitised:
    """An uploaded SVG, size-checked before it is read, then sanitised."""
    if source.size > MAX_SVG_BYTES:
        raise ToolError("IMAGE_TOO_LARGE", f"{source.name} is over 10 MB of SVG", 413)
    try:
        return sanitise(source.path.read_bytes())
    except ToolError as exc:
        raise ToolError(exc.code, f"{source.name}: {exc.message}", exc.status) from exc


def sanitise(data: bytes) -> Sanitised:
    """Parse without entity expansion, strip scripts, handlers and external references,
    and refuse a drawing over the limits above."""
    root = _parse(data)
    _check_element_count(root)  # first: the passes below are linear in it
    elements = _drop_elements(root)
    references, handlers = _drop_references(root)
    _bound_filters(root)
    _check_expansion(root)  # before serialising: it also bounds the nesting depth
    return Sanitised(ET.tostring(root, encoding="utf-8"), elements, references, handlers)


# --- parsing and stripping --------------------------------------------------------------


def _parse(data: bytes) -> ET.Element:
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
    return root


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


def _drop_elements(root: ET.Element) -> int:
    """Remove scripts, foreignObject, XInclude and event-handler elements; how many."""
    removed = 0
    for parent in list(root.iter()):
        for child in list(parent):
            if not isinstance(child.tag, str):
                continue
            if _local(child.tag) in _DROPPED_ELEMENTS or child.tag.startswith(
                f"{{{_XINCLUDE_NS}}}"
            ):
                parent.remove(child)
                removed += 1
    return removed


def _drop_references(root: ET.Element) -> tuple[int, int]:
    """Remove external references and `on*` handlers; how many of each."""
    references = handlers = 0
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
    return references, handlers


# --- cost bounds --------------------------------------------------------------------------


def _too_complex(what: str) -> ToolError:
    return ToolError("SVG_TOO_COMPLEX", f"the SVG is too complex to render: {what}", 422)


def _check_element_count(root: ET.Element) -> None:
    if sum(1 for _ in root.iter()) > MAX_ELEMENTS:
        raise _too_complex(f"it has more than {MAX_ELEMENTS:,} elements")


def _numbers(value: str | None) -> list[float]:
    """The numbers in an attribute such as `3` or `3 5`; [] when there are none."""
    try:
        return [float(part) for part in (value or "").replace(",", " ").split()]
    except ValueError:
        return []  # librsvg ignores a malformed value and uses the default


def _bound_filters(root: ET.Element) -> None:
    """Refuse filters with too many primitives or too large a convolution kernel; clamp
    feTurbulence's numOctaves."""
    for element in root.iter():
        local = _local(str(element.tag))
        if local == "filter":
            primitives = sum(1 for child in element if _local(str(child.tag)).startswith("fe"))
            if primitives > MAX_FILTER_PRIMITIVES:
                raise _too_complex(
                    f"a filter has {primitives} primitives (the limit is {MAX_FILTER_PRIMITIVES})"
                )
        elif local == "feturbulence":
            octaves = _numbers(element.get("numOctaves"))
            if octaves and octaves[0] > MAX_TURBULENCE_OCTAVES:
                element.set("numOctaves", str(MAX_TURBULENCE_OCTAVES))
        elif local == "feconvolvematrix":
            order = max(_numbers(element.get("order")), default=3)
            if order > MAX_CONVOLVE_ORDER:
                raise _too_complex(
                    f"a convolution kernel of order {order:g} (the limit is {MAX_CONVOLVE_ORDER})"
                )


def _check_expansion(root: ET.Element) -> None:
    """Count the elements drawn, each reference counting everything it brings in, and
    the deepest nesting; refuse reference cycles.

    One depth-first walk over elements and references, iterative (a deep document must
    not exhaust Python's stack) and memoised: each element is counted once, so a bomb of
    nested `<use>` costs its size, not its expansion. An element is "open" from the time
    the walk enters it until all it contains is counted; meeting an open element again
    means it contains itself.
    """
    ids: dict[str, ET.Element] = {}
    for element in root.iter():
        if (key := element.get("id")) is not None:
            ids.setdefault(key, element)  # the first one wins, as in librsvg
    count: dict[ET.Element, int] = {}
    depth: dict[ET.Element, int] = {}
    parts: dict[ET.Element, list[ET.Element]] = {}
    stack: list[tuple[ET.Element, bool]] = [(root, False)]
    while stack:
        element, counted = stack.pop()
        if counted:  # everything it contains has been counted
            count[element] = 1 + sum(count[part] for part in parts[element])
            depth[element] = 1 + max((depth[part] for part in parts[element]), default=0)
            _check_totals(count[element], depth[element])
        elif element in parts:  # entered before
            if element not in count:  # still open: it contains itself
                raise _cycle(element)
        else:
            parts[element] = _contents(element, ids)
            stack.append((element, True))
            stack.extend((part, False) for part in parts[element])


def _contents(element: ET.Element, ids: dict[str, ET.Element]) -> list[ET.Element]:
    """The children of `element` and the elements its references bring in (a link's
    `href` navigates, it draws nothing; a gradient paints without drawing anything)."""
    found = [child for child in element if isinstance(child.tag, str)]
    for name, value in element.attrib.items():
        if name == "href" or name.endswith("}href"):  # plain or xlink:
            links = [value] if _local(str(element.tag)) != "a" else []
        elif "url(" in value.lower():  # now a fragment or an embedded raster
            links = [match.group(2) for match in _URL.finditer(value)]
        else:
            continue
        for fragment in (link.strip() for link in links):
            referenced = ids.get(fragment[1:]) if fragment.startswith("#") else None
            if referenced is not None and _local(str(referenced.tag)) not in _PAINT_ONLY:
                found.append(referenced)
    return found


def _check_totals(count: int, depth: int) -> None:
    # An element's count includes everything below it, so the first one over the limit
    # means the whole drawing is over it too.
    if count > MAX_ELEMENTS:
        raise _too_complex(
            f"it draws more than {MAX_ELEMENTS:,} elements, counting each one that <use>, "
            "patterns, markers, masks, clip paths and filters bring in every time"
        )
    if depth > MAX_DEPTH:
        raise _too_complex(f"elements and references nest more than {MAX_DEPTH} deep")


def _cycle(element: ET.Element) -> ToolError:
    name = element.get("id") or _local(str(element.tag))
    return ToolError(
        "UNSAFE_SVG", f"the SVG's references form a cycle: #{name} ends up containing itself", 400
    )
