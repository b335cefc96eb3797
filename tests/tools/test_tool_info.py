"""info: header fields, readable EXIF, and no pixel decoding."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PIL import Image

from tools.base import ToolError


def test_it_describes_a_photo(photo, run_tool) -> None:
    output = run_tool("info", photo, {})
    data = output.data
    assert output.kind == "json" and output.media_type == "application/json"
    assert {k: data[k] for k in ("width", "height", "format", "size", "channels")} == {
        "width": 600,
        "height": 400,
        "format": "jpeg",
        "size": photo.size,
        "channels": 3,
    }
    assert data["hasAlpha"] is False
    assert data["dpi"] == {"x": 300, "y": 300}
    assert (data["pages"], data["colorSpace"], data["bitDepth"]) == (1, "srgb", 8)
    assert data["orientation"] == 1
    json.dumps(data, allow_nan=False)  # strictly JSON-serialisable
    assert "Pillow" in output.engine and "libvips" in output.engine


def test_it_reads_exif_with_readable_names(photo, run_tool) -> None:
    data = run_tool("info", photo, {}).data
    exif = data["exif"]
    assert exif["Make"] == "Pixelsmith"
    assert exif["Model"] == "FixtureCam 1"
    assert exif["DateTime"] == exif["DateTimeOriginal"] == "2024:05:17 10:30:00"
    assert exif["GPS"]["GPSLatitudeRef"] == "N"
    assert data["gps"]["latitude"] == 48.8582222
    assert abs(data["gps"]["longitude"] - 2.2945) < 1e-6


def test_it_reports_displayed_size_and_orientation(photo_rotated, run_tool) -> None:
    data = run_tool("info", photo_rotated, {}).data
    assert (data["width"], data["height"], data["orientation"]) == (600, 400, 6)


def test_it_reports_alpha_and_the_icc_profile(transparent, run_tool) -> None:
    data = run_tool("info", transparent, {}).data
    assert (data["channels"], data["hasAlpha"]) == (4, True)
    assert data["iccProfile"]["present"] is True
    assert "sRGB" in data["iccProfile"]["description"]
    assert data["exif"] == {} and data["gps"] is None


def test_it_never_decodes_pixels(truncated_jpeg, huge_png, run_tool) -> None:
    assert run_tool("info", truncated_jpeg, {}).data["width"] == 600
    started = time.perf_counter()
    data = run_tool("info", huge_png, {}).data
    assert (data["width"], data["height"]) == (60000, 60000)
    assert time.perf_counter() - started < 1.0


def test_it_counts_pages(tmp_path: Path, make_source, run_tool) -> None:
    frames = [Image.new("RGB", (32, 24), (i * 60, 0, 0)) for i in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    data = run_tool("info", make_source(tmp_path / "anim.gif"), {}).data
    assert (data["pages"], data["width"], data["height"]) == (3, 32, 24)


def test_it_reads_tiff_tags_and_bmp_headers(photo, tmp_path: Path, make_source, run_tool) -> None:
    with Image.open(photo.path) as im:
        exif = im.getexif()
        im.save(tmp_path / "a.tiff", exif=exif, dpi=(150, 150))
        im.save(tmp_path / "a.bmp")
    tiff = run_tool("info", make_source(tmp_path / "a.tiff"), {}).data
    assert tiff["exif"]["Model"] == "FixtureCam 1"
    assert tiff["dpi"] == {"x": 150, "y": 150}
    bmp = run_tool("info", make_source(tmp_path / "a.bmp"), {}).data
    assert (bmp["format"], bmp["width"], bmp["height"], bmp["channels"]) == ("bmp", 600, 400, 3)


def test_a_corrupt_ico_is_a_422_that_does_not_show_the_servers_path(
    tmp_path: Path, make_source, run_tool
) -> None:
    path = tmp_path / "0"  # as a job stores its input
    path.write_bytes(b"\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00\x20\x00" + b"\xff" * 40)

    with pytest.raises(ToolError) as caught:
        run_tool("info", make_source(path, "icon.ico"), {})

    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)
    assert "icon.ico" in caught.value.message
    assert str(tmp_path) not in caught.value.message
