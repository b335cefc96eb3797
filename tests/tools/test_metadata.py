"""tools.metadata: the container rewrites under strip/edit-metadata, at their edges."""

from __future__ import annotations

import io
import struct

import pytest
import pyvips
from PIL import Image

from tools import metadata
from tools.base import ToolError

EXIF = Image.Exif()
EXIF[0x010F] = "Maker"
TIFF_EXIF = EXIF.tobytes()[len(metadata.EXIF_HEADER) :]


def encoded(fmt: str, bands: int = 3, **opts: object) -> bytes:
    image = (pyvips.Image.black(37, 23, bands=bands) + 128).cast("uchar")
    image = image.copy(interpretation="srgb" if bands >= 3 else "b-w")
    return bytes(image.write_to_buffer(f".{fmt}", **opts))


@pytest.mark.parametrize(
    ("opts", "bands", "alpha"), [({}, 3, False), ({"lossless": True}, 4, True)]
)
def test_a_simple_webp_gets_a_vp8x_header_with_its_canvas(
    opts: dict, bands: int, alpha: bool
) -> None:
    data, _ = metadata.rewrite(
        encoded("webp", bands, **opts), "webp", metadata.Changes(exif=TIFF_EXIF)
    )
    assert data[12:16] == b"VP8X"
    flags, width, height = (
        data[20],
        *(int.from_bytes(data[i : i + 3], "little") + 1 for i in (24, 27)),
    )
    assert (width, height) == (37, 23)
    assert bool(flags & 0x10) is alpha and flags & 0x08  # alpha, EXIF
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (37, 23) and im.getexif()[0x010F] == "Maker"


def test_a_progressive_jpeg_loses_its_trailer_only_when_stripping() -> None:
    data = encoded("jpg", interlace=True) + b"VENDOR TRAILER"
    kept, _ = metadata.rewrite(data, "jpeg", metadata.Changes(exif=TIFF_EXIF))
    stripped, removed = metadata.rewrite(data, "jpeg", metadata.Changes(strip_other=True))
    assert kept.endswith(b"\xff\xd9VENDOR TRAILER")
    assert stripped.endswith(b"\xff\xd9") and removed == {"other"}
    assert pyvips.Image.new_from_buffer(stripped, "").avg() == pytest.approx(128, abs=1)


def test_png_metadata_goes_right_after_the_header() -> None:
    data, _ = metadata.rewrite(encoded("png"), "png", metadata.Changes(exif=TIFF_EXIF, xmp=b"<x/>"))
    assert data[33 + 4 : 33 + 8] == b"eXIf"  # signature (8) + IHDR (25)
    with Image.open(io.BytesIO(data)) as im:
        assert im.getexif()[0x010F] == "Maker" and im.info["xmp"] == b"<x/>"


@pytest.mark.parametrize(
    ("fmt", "damage"),
    [("png", lambda d: d[:40]), ("webp", lambda d: d[:30]), ("jpeg", lambda d: b"\xff\xd8\x00")],
)
def test_a_damaged_container_is_a_corrupt_image(fmt: str, damage) -> None:
    data = damage(encoded("jpg" if fmt == "jpeg" else fmt))
    with pytest.raises(ToolError) as caught:
        metadata.rewrite(data, fmt, metadata.Changes(strip_other=True))
    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)


def test_exif_too_big_for_a_jpeg_segment_is_refused() -> None:
    with pytest.raises(ToolError) as caught:
        metadata.rewrite(encoded("jpg"), "jpeg", metadata.Changes(exif=b"MM" + b"\x00" * 70000))
    assert caught.value.code == "METADATA_TOO_LARGE"
