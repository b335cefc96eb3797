"""Edit metadata: write title, description, author, copyright, keywords, GPS and date.

Fields are written as standard EXIF and as an XMP packet, where exiftool, Lightroom and
Windows read them:

| setting | EXIF | XMP |
| --- | --- | --- |
| title | XPTitle | dc:title |
| description | ImageDescription | dc:description |
| author | Artist, XPAuthor | dc:creator |
| copyright | Copyright | dc:rights |
| keywords | XPKeywords ("; "-joined) | dc:subject |
| gps | GPS IFD (version 2.3, WGS-84) | exif:GPSLatitude/Longitude |
| dateTime | DateTime, DateTimeOriginal, DateTimeDigitized, OffsetTime* | xmp:CreateDate |

Only the settings given are changed: the rest of the EXIF (camera, exposure, orientation)
stays. An empty string, an empty keyword list or `null` removes that field. EXIF text is
UTF-8 (as exiftool reads it); the XP* tags are UTF-16 for Windows. The XMP packet is
rebuilt from the settings given and replaces any existing one (other XMP properties are
not kept: readers fall back to EXIF for fields the XMP lacks).

JPEG, PNG and WebP only, rewritten without re-encoding (see `tools.metadata`). Limits:
Pillow rewrites the EXIF block, so an embedded EXIF thumbnail is dropped and a maker
note's internal offsets may no longer resolve; a JPEG's EXIF must fit in 64 KB.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from PIL import ExifTags, Image, TiffImagePlugin
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools import encode, imaging, metadata, xmp
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings

# EXIF tags (IFD0 unless noted) that have no name in Pillow's ExifTags.Base.
_XP_TITLE, _XP_AUTHOR, _XP_KEYWORDS = 0x9C9B, 0x9C9D, 0x9C9E
_OFFSET_TIME, _OFFSET_TIME_ORIGINAL, _OFFSET_TIME_DIGITIZED = 0x9010, 0x9011, 0x9012
_NO_NUL = r"^[^\x00]*$"  # EXIF strings end at NUL: a NUL inside would cut the value

Text = Annotated[str, Field(pattern=_NO_NUL)]


class GpsPoint(BaseModel):
    """A WGS-84 position in decimal degrees."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90, description="Latitude, south negative.")
    lon: float = Field(ge=-180, le=180, description="Longitude, west negative.")


class Settings(ToolSettings):
    """Give at least one field; "" (or [] or null) removes a field, absent leaves it."""

    title: Text | None = Field(None, max_length=500)
    description: Text | None = Field(None, max_length=2000)
    author: Text | None = Field(None, max_length=300)
    copyright: Text | None = Field(None, max_length=500)
    keywords: list[Annotated[Text, Field(min_length=1, max_length=100)]] | None = Field(
        None, max_length=100
    )
    gps: GpsPoint | None = None
    dateTime: datetime | None = Field(
        None, description="ISO 8601, e.g. 2024-05-17T10:30:00+02:00 (offset optional)."
    )

    @model_validator(mode="after")
    def _something_to_write(self) -> Settings:
        if not self.model_fields_set:
            raise ValueError(
                "give at least one of title, description, author, copyright, keywords, "
                "gps, dateTime"
            )
        return self


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Write the given fields into one JPEG/PNG/WebP as EXIF and XMP, pixels untouched."""
    source = inputs[0]
    if source.format not in metadata.LOSSLESS_FORMATS:
        raise ToolError(
            "UNSUPPORTED_FORMAT",
            f"edit-metadata writes JPEG, PNG and WebP; {source.name} is {source.format}",
            400,
        )
    ctx.progress(5, "checking the image")
    imaging.verify_decodes(source, ctx.max_megapixels)
    given = {name: getattr(settings, name) for name in settings.model_fields_set}
    with imaging.pillow_open(source) as im:  # lazy: reads the header, not the pixels
        exif = im.getexif()
    _apply(exif, given)
    changes = metadata.Changes(
        exif=exif.tobytes()[len(metadata.EXIF_HEADER) :], xmp=xmp.packet(given)
    )
    ctx.progress(50, "writing metadata")
    data, _ = metadata.rewrite(source.path.read_bytes(), source.format, changes)
    path = imaging.output_path(ctx, source.format)
    path.write_bytes(data)
    ctx.progress(100, "done")
    engine = f"lossless metadata rewrite + {encode.pillow_version()} + {imaging.engine_name()}"
    return imaging.image_output(path, source.format, engine, written=sorted(given))


def _apply(exif: Image.Exif, given: dict[str, Any]) -> None:
    """Set (or, for empty values, delete) the EXIF tags of each given field."""
    for name, tags in _IFD0_TAGS.items():
        if name in given:
            for tag, encode_value in tags.items():
                _set(exif, tag, encode_value(given[name]) if given[name] else None)
    if "gps" in given:
        _set_gps(exif, given["gps"])
    if "dateTime" in given:
        _set_date(exif, given["dateTime"])


def _set(tags: MutableMapping[int, Any], tag: int, value: Any) -> None:
    """Set a tag, or delete it when `value` is None (a missing tag is fine)."""
    if value is None:
        tags.pop(tag, None)
    else:
        tags[tag] = value


def _utf8(text: str) -> bytes:
    """EXIF ASCII tags as UTF-8 bytes: Pillow would turn non-ASCII into "?" otherwise."""
    return text.encode("utf-8")


def _utf16(text: str) -> bytes:
    """Windows XP* tags: UTF-16LE, NUL-terminated."""
    return text.encode("utf-16-le") + b"\x00\x00"


def _keywords(words: list[str]) -> bytes:
    return _utf16("; ".join(words))


# setting -> the IFD0 tags that hold it, each with its encoder.
_IFD0_TAGS: dict[str, dict[int, Callable[[Any], bytes]]] = {
    "title": {_XP_TITLE: _utf16},
    "description": {ExifTags.Base.ImageDescription: _utf8},
    "author": {ExifTags.Base.Artist: _utf8, _XP_AUTHOR: _utf16},
    "copyright": {ExifTags.Base.Copyright: _utf8},
    "keywords": {_XP_KEYWORDS: _keywords},
}


def _set_gps(exif: Image.Exif, point: GpsPoint | None) -> None:
    """Replace the whole GPS IFD (a stale altitude must not survive a new position)."""
    exif.pop(ExifTags.IFD.GPSInfo, None)
    if point is None:
        return
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if point.lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = _dms(point.lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if point.lon >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = _dms(point.lon)
    gps[ExifTags.GPS.GPSMapDatum] = "WGS-84"


def _dms(degrees: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    """Decimal degrees as EXIF degrees, minutes, seconds (to 1/1000 of a second ~ 3 cm)."""
    millis = round(abs(degrees) * 3_600_000)
    whole, rest = divmod(millis, 3_600_000)
    minutes, seconds = divmod(rest, 60_000)
    rational = TiffImagePlugin.IFDRational
    return rational(whole, 1), rational(minutes, 1), rational(seconds, 1000)


def _set_date(exif: Image.Exif, when: datetime | None) -> None:
    """DateTime in IFD0, DateTimeOriginal/Digitized (and their offsets) in the Exif IFD."""
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    stamp = when.strftime("%Y:%m:%d %H:%M:%S") if when else None
    offset = _offset(when) if when else None
    _set(exif, ExifTags.Base.DateTime, stamp)
    _set(sub, ExifTags.Base.DateTimeOriginal, stamp)
    _set(sub, ExifTags.Base.DateTimeDigitized, stamp)
    for tag in (_OFFSET_TIME, _OFFSET_TIME_ORIGINAL, _OFFSET_TIME_DIGITIZED):
        _set(sub, tag, offset)


def _offset(when: datetime) -> str | None:
    """EXIF's "+HH:MM" for an aware datetime, None for a naive one."""
    delta = when.utcoffset()
    if delta is None:
        return None
    minutes = round(delta.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


TOOL = Tool(
    id="edit-metadata",
    name="Edit Metadata",
    category="optimization",
    description="Write title, description, author, copyright, keywords, GPS and date as "
    "EXIF and XMP (JPEG, PNG, WebP; pixels untouched).",
    settings=Settings,
    run=run,
)
