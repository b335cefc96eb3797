"""Strip metadata: remove EXIF (GPS included), XMP, IPTC, comments and vendor blocks.

The ICC colour profile is kept unless `keepIcc` is false: it holds nothing private and
dropping it shifts the colours of wide-gamut images (dropping it does exactly that: the
pixels are not converted).

JPEG, PNG and WebP are rewritten without re-encoding (see `tools.metadata`): the image data
is copied byte for byte, so nothing is lost. A photo stored sideways keeps a minimal EXIF
block holding only its Orientation tag, or it would display rotated. Every other format
(TIFF, GIF, HEIC, AVIF, BMP, ICO, SVG) is decoded and re-encoded by libvips in the same
format (SVG becomes PNG), all pages and frames, lossless where the format allows and at
quality 90 for HEIC/AVIF; `extras.lossless` says which happened.

`gpsOnly` removes only location data: the GPS IFD, and any XMP packet that mentions GPS
(XMP is removed whole, not edited). It works on JPEG, PNG and WebP only.

The result is read back before it is returned, and the tool fails rather than hand out a
file that still carries what it was asked to remove.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyvips
from PIL import ExifTags, Image
from pydantic import Field

from tools import encode, imaging, metadata
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings

_REENCODE_QUALITY = {"heif": 90, "avif": 90}


class Settings(ToolSettings):
    """What to keep: the ICC profile by default; everything else unless `gpsOnly`."""

    keepIcc: bool = Field(True, description="Keep the ICC colour profile.")
    gpsOnly: bool = Field(
        False, description="Remove only location data (JPEG, PNG and WebP); keep the rest."
    )


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Remove metadata from one image, losslessly for JPEG/PNG/WebP; verify the result."""
    source = inputs[0]
    ctx.progress(5, "checking the image")
    imaging.verify_decodes(source, ctx.max_megapixels)
    lossless = source.format in metadata.LOSSLESS_FORMATS
    if settings.gpsOnly and not lossless:
        raise ToolError(
            "UNSUPPORTED_FORMAT",
            f"gpsOnly works on JPEG, PNG and WebP; {source.name} is {source.format}",
            400,
        )
    before = set() if source.format in imaging.PILLOW_ONLY else _found(imaging.open_header(source))
    ctx.progress(40, "removing metadata")
    fmt = imaging.output_format(None, source.format)
    if lossless:
        path, other = _strip_in_place(source, settings, ctx)
    else:
        path, other = _strip_by_reencoding(source, fmt, settings, ctx), set()
    after = _found(pyvips.Image.new_from_file(str(path)))
    _verify(after, settings)
    ctx.progress(100, "done")
    return imaging.image_output(
        path,
        fmt,
        _engine(lossless, source.format),
        removed=sorted((before - after) | other),
        lossless=lossless,
    )


def _engine(lossless: bool, source_format: str) -> str:
    if lossless:
        return f"lossless metadata rewrite + {encode.pillow_version()} + {imaging.engine_name()}"
    return imaging.engine_name(source_format, imaging.output_format(None, source_format))


def _strip_in_place(source: Source, s: Settings, ctx: Context) -> tuple[Path, set[str]]:
    """JPEG/PNG/WebP: drop the metadata blocks, copy the image data unchanged.

    Returns the file and "other" when comments, IPTC or vendor blocks went too.
    """
    if s.gpsOnly:
        changes = _gps_changes(source)
    else:
        orientation = imaging.orientation(imaging.probe(source, ctx.max_megapixels))
        exif = _orientation_only(orientation) if orientation != 1 else b""
        changes = metadata.Changes(exif=exif, xmp=b"", drop_icc=not s.keepIcc, strip_other=True)
    result, removed = metadata.rewrite(source.path.read_bytes(), source.format, changes)
    path = imaging.output_path(ctx, source.format)
    path.write_bytes(result)
    return path, removed & {"other"}


def _orientation_only(orientation: int) -> bytes:
    """A minimal EXIF block with just the Orientation tag."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return exif.tobytes()[len(metadata.EXIF_HEADER) :]


def _gps_changes(source: Source) -> metadata.Changes:
    """Remove the GPS IFD from the EXIF block and any XMP packet that mentions GPS."""
    with imaging.pillow_open(source) as im:  # lazy: the header, not the pixels
        exif = im.getexif()
        xmp = im.info.get("xmp") or b""
    has_gps = bool(exif.get_ifd(ExifTags.IFD.GPSInfo))
    if has_gps:
        del exif[ExifTags.IFD.GPSInfo]
    xmp_bytes = xmp.encode() if isinstance(xmp, str) else xmp
    return metadata.Changes(
        exif=exif.tobytes()[len(metadata.EXIF_HEADER) :] if has_gps else None,
        xmp=b"" if b"GPS" in xmp_bytes else None,
    )


def _strip_by_reencoding(source: Source, fmt: str, s: Settings, ctx: Context) -> Path:
    """Other formats: decode every page and re-encode with only the ICC profile kept."""
    image = imaging.load(source, ctx.max_megapixels, n=-1)
    if not s.keepIcc and image.get_typeof("icc-profile-data") != 0:
        image = image.copy()
        image.remove("icc-profile-data")
    path = imaging.output_path(ctx, fmt)
    return imaging.save(image, path, fmt, quality=_REENCODE_QUALITY.get(fmt), strip=True)


def _verify(found: set[str], s: Settings) -> None:
    """Fail if anything that should be gone is still in the result."""
    unwanted = {"gps", "gps-xmp"} if s.gpsOnly else {"gps", "gps-xmp", "exif", "xmp", "iptc"}
    if not s.keepIcc:
        unwanted.add("icc")
    if found & unwanted:
        raise ToolError(
            "PROCESSING_FAILED",
            f"metadata could not be removed: {', '.join(sorted(found & unwanted))}",
            422,
        )


_FIELDS = {"xmp-data": "xmp", "iptc-data": "iptc", "icc-profile-data": "icc"}


def _found(head: pyvips.Image) -> set[str]:
    """The kinds of metadata in an image header as libvips read it (EXIF parsed by Pillow).

    "exif" means EXIF beyond a lone Orientation tag; "gps-xmp" an XMP packet naming GPS.
    """
    fields = set(head.get_fields())
    found = {kind for field, kind in _FIELDS.items() if field in fields}
    if "exif-data" in fields:
        exif = Image.Exif()
        exif.load(head.get("exif-data"))
        if exif.get_ifd(ExifTags.IFD.GPSInfo):
            found.add("gps")
        if set(exif) - {ExifTags.Base.Orientation}:
            found.add("exif")
    if "xmp-data" in fields and b"GPS" in head.get("xmp-data"):
        found.add("gps-xmp")
    return found


TOOL = Tool(
    id="strip-metadata",
    name="Strip Metadata",
    category="optimization",
    description="Remove EXIF, GPS, XMP, IPTC and comments (the ICC profile is kept); "
    "lossless for JPEG, PNG and WebP.",
    settings=Settings,
    run=run,
)
