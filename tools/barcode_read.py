"""Barcode reader: every 1-D and 2-D code zxing-cpp finds in an image.

The image is decoded upright (EXIF orientation applied), transparent areas flattened on
white, made grey, and handed to zxing-cpp, which looks for all the formats it reads (QR
Code, Micro QR, DataMatrix, Aztec, PDF417, EAN-13/8, UPC-A/E, Code 128/39/93, Codabar,
ITF, DataBar...), in any rotation, inverted (light on dark) and downscaled too.

Each code found is returned with its `format` (zxing-cpp's name: "QRCode", "EAN13",
"Code128", "DataMatrix"...; `formatName` is the display name, "EAN-13"), `text`,
`position` (the four corner points in pixels of the upright image, clockwise from the
code's own top-left), `orientation` (degrees the code is turned), and, where the format
has them, the error-correction level and the symbology identifier. `formats` narrows
the search (faster, fewer false positives).

Limits: the first page/frame only; codes must be sharp and large enough (about 2 px per
module or bar); a code cut by the image edge is not read. An image with no code gives an
empty list, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata
from typing import Any, Literal

import pyvips
import zxingcpp
from pydantic import Field

from tools import imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolSettings

FormatName = Literal[
    "QRCode",
    "MicroQRCode",
    "DataMatrix",
    "Aztec",
    "PDF417",
    "EAN13",
    "EAN8",
    "UPCA",
    "UPCE",
    "Code128",
    "Code39",
    "Code93",
    "Codabar",
    "ITF",
    "DataBar",
]


class Settings(ToolSettings):
    """Which formats to look for (all by default)."""

    formats: list[FormatName] = Field(
        default_factory=list,
        max_length=15,
        description="Formats to look for; empty means every format zxing-cpp reads.",
    )


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Find and decode every barcode in one image; see the module docstring."""
    ctx.progress(5, "decoding")
    grey = _grey(imaging.load(inputs[0], ctx.max_megapixels))
    pixels = memoryview(grey.write_to_memory()).cast("B", (grey.height, grey.width))
    ctx.progress(40, "searching for codes")
    wanted = zxingcpp.barcode_formats_from_str(",".join(settings.formats))
    found = zxingcpp.read_barcodes(pixels, formats=wanted)
    codes = [describe(code) for code in found]
    ctx.progress(100, "done")
    engine = f"{imaging.engine_name(inputs[0].format)} + zxing-cpp {metadata.version('zxing-cpp')}"
    data = {"codes": codes, "count": len(codes), "width": grey.width, "height": grey.height}
    return Output.json(data, engine)


def _grey(image: pyvips.Image) -> pyvips.Image:
    """One 8-bit grey band, transparency flattened on white, in memory."""
    if image.hasalpha():
        image = image.colourspace("srgb").flatten(background=[255, 255, 255])
    return image.colourspace("b-w")[0].cast("uchar").copy_memory()


def describe(code: Any) -> dict[str, Any]:
    """A zxing-cpp Barcode as JSON."""
    position = code.position
    corners = [position.top_left, position.top_right, position.bottom_right, position.bottom_left]
    return {
        "format": code.format.name,
        "formatName": str(code.format),
        "text": code.text,
        "position": [{"x": point.x, "y": point.y} for point in corners],
        "orientation": code.orientation,
        "errorCorrection": code.ec_level or None,
        "symbologyIdentifier": code.symbology_identifier,
        "contentType": code.content_type.name,
    }


TOOL = Tool(
    id="barcode-read",
    name="Barcode Reader",
    category="utilities",
    description="Find and decode every QR, DataMatrix, Aztec, PDF417, EAN/UPC, Code128/39 "
    "... code in an image, with its text, format and corner points.",
    settings=Settings,
    run=run,
    output=OutputKind.JSON,
)
