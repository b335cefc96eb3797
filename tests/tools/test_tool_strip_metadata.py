"""strip-metadata: EXIF, GPS, XMP and IPTC go, ICC stays, pixels are untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import pyvips
from PIL import ExifTags, Image

from tools.base import Source, ToolError

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="48,51.49N"/></rdf:RDF></x:xmpmeta>'
)
IPTC = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0c\x1c\x02\x78\x00\x07caption"


@pytest.fixture
def rich(tmp_path: Path, fixtures: Path, make_source) -> Callable[[str], Source]:
    """The photo (EXIF with GPS) plus an sRGB ICC profile, XMP naming GPS and IPTC."""

    def make(fmt: str) -> Source:
        image = pyvips.Image.new_from_file(str(fixtures / "photo.jpg")).copy()
        icc = pyvips.Image.new_from_file(str(fixtures / "transparent.png")).get("icc-profile-data")
        for name, blob in (("icc-profile-data", icc), ("xmp-data", XMP), ("iptc-data", IPTC)):
            image.set_type(pyvips.GValue.blob_type, name, blob)
        path = tmp_path / f"rich.{fmt}"
        image.write_to_file(str(path), keep=31)  # keep everything
        return make_source(path)

    return make


def metadata_fields(path: Path) -> set[str]:
    fields = pyvips.Image.new_from_file(str(path)).get_fields()
    return {f for f in fields if f.endswith("-data") or f.startswith("exif-")}


def test_it_removes_exif_gps_xmp_and_iptc_but_keeps_the_icc_profile(rich, run_tool) -> None:
    source = rich("jpg")
    assert {"exif-data", "xmp-data", "iptc-data"} <= metadata_fields(source.path)
    output = run_tool("strip-metadata", source, {})
    assert metadata_fields(output.path) == {"icc-profile-data"}
    with Image.open(output.path) as im:
        assert not im.getexif() and not im.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert im.info.get("icc_profile") == Image.open(source.path).info["icc_profile"]
    assert output.extras["removed"] == ["exif", "gps", "gps-xmp", "iptc", "other", "xmp"]
    assert output.extras["lossless"] is True


def test_the_pixels_are_untouched(rich, run_tool, img) -> None:
    source = rich("jpg")
    output = run_tool("strip-metadata", source, {})
    assert np.array_equal(img.decode(output.path), img.decode(source.path))
    assert output.path.stat().st_size < source.size


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_png_and_webp_are_stripped_without_reencoding(fmt: str, rich, run_tool, img) -> None:
    source = rich(fmt)
    output = run_tool("strip-metadata", source, {})
    assert metadata_fields(output.path) == {"icc-profile-data"}
    assert np.array_equal(img.decode(output.path), img.decode(source.path))
    assert output.extras["lossless"] is True


def test_keep_icc_false_drops_the_profile_too(rich, run_tool) -> None:
    output = run_tool("strip-metadata", rich("jpg"), {"keepIcc": False})
    assert metadata_fields(output.path) == set()
    assert "icc" in output.extras["removed"]


def test_gps_only_keeps_the_rest(rich, run_tool) -> None:
    output = run_tool("strip-metadata", rich("jpg"), {"gpsOnly": True})
    with Image.open(output.path) as im:
        exif = im.getexif()
        assert exif[ExifTags.Base.Make] == "Pixelsmith"
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert "xmp" not in im.info  # it named a GPS position
        assert "photoshop" in im.info and "icc_profile" in im.info


def test_a_sideways_photo_keeps_only_its_orientation(photo_rotated, run_tool, img) -> None:
    output = run_tool("strip-metadata", photo_rotated, {})
    with Image.open(output.path) as im:
        assert dict(im.getexif()) == {ExifTags.Base.Orientation: 6}
    assert img.pillow_pixels(output.path).shape[:2] == (400, 600)  # still displayed upright


def test_other_formats_are_reencoded_without_metadata(rich, run_tool, img) -> None:
    source = rich("tiff")
    output = run_tool("strip-metadata", source, {})
    assert output.extras["lossless"] is False
    assert output.media_type == "image/tiff"
    assert metadata_fields(output.path) == {"icc-profile-data"}
    assert np.array_equal(img.decode(output.path), img.decode(source.path))  # deflate


def test_gps_only_needs_a_container_it_can_edit(rich, run_tool) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("strip-metadata", rich("tiff"), {"gpsOnly": True})
    assert (caught.value.code, caught.value.status) == ("UNSUPPORTED_FORMAT", 400)


def test_it_rejects_unknown_settings(photo, run_tool) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("strip-metadata", photo, {"keepExif": True})
    assert caught.value.code == "INVALID_SETTINGS"
