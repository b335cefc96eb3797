"""edit-metadata: fields written as EXIF (incl. the GPS IFD) and XMP, read back by Pillow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from PIL import ExifTags, Image

from tools import edit_metadata, runner
from tools.base import ToolError

EVERYTHING = {
    "title": "Espresso <at> dawn",
    "description": "A cup & saucer",
    "author": "Zoë Doe",
    "copyright": "© 2025 Zoë Doe",
    "keywords": ["coffee", "morning"],
    "gps": {"lat": -33.856784, "lon": 151.215297},
    "dateTime": "2024-06-01T08:15:30+10:00",
}


def read(path: Path) -> tuple[Image.Exif, dict[int, Any], dict[int, Any], str]:
    """IFD0, Exif IFD, GPS IFD and the XMP text of a file, as Pillow reads them."""
    with Image.open(path) as im:
        exif = im.getexif()
        xmp = im.info.get("xmp", b"")
        return (
            exif,
            exif.get_ifd(ExifTags.IFD.Exif),
            exif.get_ifd(ExifTags.IFD.GPSInfo),
            xmp.decode() if isinstance(xmp, bytes) else xmp,
        )


def utf8(value: str) -> str:
    """Pillow decodes EXIF ASCII as Latin-1; we write UTF-8 there, as exiftool reads it."""
    return value.encode("latin-1").decode("utf-8")


def utf16(value: bytes) -> str:
    return value.decode("utf-16-le").rstrip("\x00")


def decimal(dms: tuple, ref: str) -> float:
    degrees = float(dms[0]) + float(dms[1]) / 60 + float(dms[2]) / 3600
    return -degrees if ref in ("S", "W") else degrees


def test_every_field_reads_back_from_exif(photo, run_tool) -> None:
    output = run_tool("edit-metadata", photo, EVERYTHING)
    ifd0, sub, gps, _ = read(output.path)
    assert utf16(ifd0[0x9C9B]) == "Espresso <at> dawn"  # XPTitle
    assert ifd0[ExifTags.Base.ImageDescription] == "A cup & saucer"
    assert utf8(ifd0[ExifTags.Base.Artist]) == "Zoë Doe" == utf16(ifd0[0x9C9D])
    assert utf8(ifd0[ExifTags.Base.Copyright]) == "© 2025 Zoë Doe"
    assert utf16(ifd0[0x9C9E]) == "coffee; morning"  # XPKeywords
    assert ifd0[ExifTags.Base.DateTime] == "2024:06:01 08:15:30"
    assert sub[ExifTags.Base.DateTimeOriginal] == "2024:06:01 08:15:30"
    assert sub[0x9011] == "+10:00"  # OffsetTimeOriginal
    lat = decimal(gps[ExifTags.GPS.GPSLatitude], gps[ExifTags.GPS.GPSLatitudeRef])
    lon = decimal(gps[ExifTags.GPS.GPSLongitude], gps[ExifTags.GPS.GPSLongitudeRef])
    assert lat == pytest.approx(-33.856784, abs=1e-6)
    assert lon == pytest.approx(151.215297, abs=1e-6)
    assert gps[ExifTags.GPS.GPSVersionID] == b"\x02\x03\x00\x00"
    assert output.extras["written"] == sorted(EVERYTHING)


def test_every_field_is_in_the_xmp_packet_escaped(photo, run_tool) -> None:
    _, _, _, xmp = read(run_tool("edit-metadata", photo, EVERYTHING).path)
    assert '<rdf:li xml:lang="x-default">Espresso &lt;at&gt; dawn</rdf:li>' in xmp
    assert "A cup &amp; saucer" in xmp and "<rdf:li>Zoë Doe</rdf:li>" in xmp
    assert "<rdf:li>coffee</rdf:li>" in xmp and "<rdf:li>morning</rdf:li>" in xmp
    assert "<xmp:CreateDate>2024-06-01T08:15:30+10:00</xmp:CreateDate>" in xmp
    assert "<exif:GPSLatitude>33,51.407040S</exif:GPSLatitude>" in xmp


def test_it_keeps_the_other_exif_and_the_pixels(photo, run_tool, img) -> None:
    output = run_tool("edit-metadata", photo, {"author": "Someone"})
    ifd0, sub, gps, _ = read(output.path)
    assert ifd0[ExifTags.Base.Make] == "Pixelsmith" and ifd0[ExifTags.Base.Artist] == "Someone"
    assert sub[ExifTags.Base.DateTimeOriginal] == "2024:05:17 10:30:00"
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"  # the fixture's position, untouched
    assert np.array_equal(img.decode(output.path), img.decode(photo.path))


def test_a_new_position_replaces_the_whole_gps_ifd_and_null_removes_it(photo, run_tool) -> None:
    moved = run_tool("edit-metadata", photo, {"gps": {"lat": 1.5, "lon": -2.25}})
    _, _, gps, _ = read(moved.path)
    assert decimal(gps[ExifTags.GPS.GPSLongitude], gps[ExifTags.GPS.GPSLongitudeRef]) == -2.25
    removed = run_tool("edit-metadata", photo, {"gps": None, "author": ""})
    ifd0, _, gps, xmp = read(removed.path)
    assert gps == {} and ExifTags.Base.Artist not in ifd0 and xmp == ""


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_png_and_webp_get_the_same_fields(
    fmt: str, transparent, tmp_path: Path, make_source, run_tool, img
) -> None:
    path = tmp_path / f"in.{fmt}"
    pyvips.Image.new_from_file(str(transparent.path)).write_to_file(str(path))
    source = make_source(path)
    output = run_tool("edit-metadata", source, EVERYTHING)
    ifd0, _, gps, xmp = read(output.path)
    assert utf16(ifd0[0x9C9B]) == "Espresso <at> dawn"
    assert gps[ExifTags.GPS.GPSLatitudeRef] == "S" and "dc:subject" in xmp
    assert output.media_type == f"image/{fmt}"
    assert np.array_equal(img.decode(output.path), img.decode(source.path))


def test_other_formats_get_a_clear_error(photo, tmp_path: Path, make_source, run_tool) -> None:
    pyvips.Image.new_from_file(str(photo.path)).tiffsave(str(tmp_path / "a.tiff"))
    with pytest.raises(ToolError) as caught:
        run_tool("edit-metadata", make_source(tmp_path / "a.tiff"), {"title": "x"})
    assert (caught.value.code, caught.value.status) == ("UNSUPPORTED_FORMAT", 400)
    assert "JPEG, PNG and WebP" in caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"gps": {"lat": 91, "lon": 0}},
        {"gps": {"lat": 0}},
        {"title": "a\x00b"},
        {"keywords": ["x"] * 101},
        {"keywords": [""]},
        {"dateTime": "yesterday"},
        {"author": "x" * 301},
    ],
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(edit_metadata.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
