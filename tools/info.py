"""Image info: dimensions, format, colour, resolution, EXIF and ICC, from the header only.

No pixel is decoded, so this works on images of any size (no megapixel limit) and is
fast. `width`/`height` are as displayed, i.e. after EXIF orientation (`orientation`
says what it was). EXIF is returned as readable tag names (IFD0 + Exif IFD, GPS under
"GPS", plus decimal `gps` coordinates); binary blobs such as MakerNote are left out.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pyvips
from PIL import ExifTags, Image, ImageCms, TiffImagePlugin

from tools import encode, imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolSettings

_BIT_DEPTHS = {"uchar": 8, "char": 8, "ushort": 16, "short": 16, "uint": 32, "int": 32}
_BIT_DEPTHS |= {"float": 32, "double": 64, "complex": 64, "dpcomplex": 128}
# Pointers to other IFDs and undecodable vendor data: not information for a person.
_SKIPPED_TAGS = {"ExifOffset", "GPSInfo", "InteropOffset", "MakerNote", "PrintImageMatching"}
_MAX_TEXT = 2000


class Settings(ToolSettings):
    """Info takes no settings."""


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Read the header of one image and describe it as JSON."""
    source = inputs[0]
    ctx.progress(10, "reading header")
    if source.format in imaging.PILLOW_ONLY:
        data = _pillow_info(source)
    else:
        data = _vips_info(imaging.open_header(source), source)
    ctx.progress(100, "done")
    return Output.json(data, engine=f"{imaging.engine_name()} + {encode.pillow_version()}")


def _vips_info(head: pyvips.Image, source: Source) -> dict[str, Any]:
    width, height = imaging.oriented_size(head)
    exif = _exif(head, source)
    return {
        "width": width,
        "height": height,
        "format": source.format,
        "size": source.size,
        "channels": head.bands,
        "hasAlpha": bool(head.hasalpha()),
        "dpi": {"x": _dpi(head.xres), "y": _dpi(head.yres)},
        "pages": int(head.get("n-pages")) if _has(head, "n-pages") else 1,
        "colorSpace": head.interpretation,
        "bitDepth": _bit_depth(head),
        "orientation": imaging.orientation(head),
        "exif": exif,
        "gps": _decimal_gps(exif.get("GPS", {})),
        "iccProfile": _icc(
            head.get("icc-profile-data") if _has(head, "icc-profile-data") else None
        ),
    }


def _has(image: pyvips.Image, field: str) -> bool:
    return bool(image.get_typeof(field) != 0)


def _dpi(pixels_per_mm: float) -> int | None:
    return round(pixels_per_mm * 25.4) if pixels_per_mm > 0 else None


def _bit_depth(head: pyvips.Image) -> int:
    if _has(head, "bits-per-sample"):
        return int(head.get("bits-per-sample"))
    return _BIT_DEPTHS.get(head.format, 8)


def _exif(head: pyvips.Image, source: Source) -> dict[str, Any]:
    """EXIF from libvips' raw block; TIFF keeps its tags in the file itself, read by Pillow."""
    if source.format == "tiff" and not _has(head, "exif-data"):
        with imaging.pillow_open(source) as im:  # lazy: reads tags, not pixels
            return exif_to_dict(im.getexif())  # inside `with`: sub-IFDs are read lazily
    exif = Image.Exif()
    if _has(head, "exif-data"):
        exif.load(head.get("exif-data"))
    return exif_to_dict(exif)


def exif_to_dict(exif: Image.Exif) -> dict[str, Any]:
    """Readable tag name -> JSON-serialisable value; GPS tags nested under "GPS"."""
    data = _named(exif.items(), ExifTags.TAGS)
    data |= _named(exif.get_ifd(ExifTags.IFD.Exif).items(), ExifTags.TAGS)
    gps = _named(exif.get_ifd(ExifTags.IFD.GPSInfo).items(), ExifTags.GPSTAGS)
    if gps:
        data["GPS"] = gps
    return data


def _named(items: Iterable[tuple[int, Any]], names: dict[int, str]) -> dict[str, Any]:
    out = {}
    for tag, value in items:
        name = names.get(tag, f"0x{tag:04x}")
        plain = _jsonable(value)
        if name not in _SKIPPED_TAGS and plain is not None:
            out[name] = plain
    return out


def _jsonable(value: Any) -> Any:
    """EXIF values as JSON: rationals to floats, printable bytes to text, others dropped."""
    if isinstance(value, TiffImagePlugin.IFDRational):
        number = float(value) if value.denominator else math.nan
        return None if math.isnan(number) else round(number, 6)
    if isinstance(value, bytes):
        value = value.rstrip(b"\x00")
        text = value.decode("ascii", errors="replace")
        return text if text.isprintable() and len(text) <= _MAX_TEXT else None
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return value.rstrip("\x00")[:_MAX_TEXT]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, int | float | bool) else None


def _decimal_gps(gps: dict[str, Any]) -> dict[str, float] | None:
    """GPS degrees/minutes/seconds as signed decimal degrees, when both are present."""
    try:
        lat = _degrees(gps["GPSLatitude"], gps.get("GPSLatitudeRef", "N"), "S")
        lon = _degrees(gps["GPSLongitude"], gps.get("GPSLongitudeRef", "E"), "W")
    except (KeyError, TypeError, ValueError):
        return None
    return {"latitude": lat, "longitude": lon}


def _degrees(dms: list[float], ref: str, negative: str) -> float:
    degrees, minutes, seconds = (float(v) for v in dms)
    value = degrees + minutes / 60 + seconds / 3600
    return round(-value if ref.upper() == negative else value, 7)


def _icc(data: bytes | None) -> dict[str, Any]:
    """Whether there is an ICC profile, and its description when lcms can read it."""
    if not data:
        return {"present": False, "description": None}
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(data))
        description = ImageCms.getProfileDescription(profile).strip() or None
    except (ImageCms.PyCMSError, OSError, TypeError):
        description = None
    return {"present": True, "description": description}


def _pillow_info(source: Source) -> dict[str, Any]:
    """BMP and ICO: Pillow reads their headers (no pixels decoded)."""
    with imaging.pillow_open(source) as im:
        dpi = im.info.get("dpi")
        bands = len(im.getbands())
        return {
            "width": im.width,
            "height": im.height,
            "format": source.format,
            "size": source.size,
            "channels": bands,
            "hasAlpha": "A" in im.getbands() or "transparency" in im.info,
            "dpi": {"x": round(dpi[0]), "y": round(dpi[1])} if dpi else {"x": None, "y": None},
            "pages": len(im.info.get("sizes", ())) or 1,
            "colorSpace": "b-w" if im.mode in ("1", "L", "LA") else "srgb",
            "bitDepth": 1 if im.mode == "1" else 8,
            "orientation": 1,
            "exif": {},
            "gps": None,
            "iccProfile": _icc(im.info.get("icc_profile")),
        }


TOOL = Tool(
    id="info",
    name="Image Info",
    category="utilities",
    description="Dimensions, format, colour space, DPI, EXIF and ICC profile of an image.",
    settings=Settings,
    run=run,
    output=OutputKind.JSON,
)
