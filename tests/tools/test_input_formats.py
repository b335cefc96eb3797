"""Inputs beyond the basics decode through `imaging.load` and convert to PNG.

Each input is generated here: 64x48, left half red, right half blue (a multi-page TIFF
and an animated WebP add a second, green page/frame that must not leak into page one).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pillow_heif
import pytest
import pyvips
from PIL import Image

from tools.base import ToolError

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)
W, H = 64, 48


def _halves() -> Image.Image:
    image = Image.new("RGB", (W, H), RED)
    image.paste(BLUE, (W // 2, 0, W, H))
    return image


def _pillow(fmt: str, **opts: object) -> Callable[[], bytes]:
    def make() -> bytes:
        out = io.BytesIO()
        _halves().save(out, fmt, **opts)
        return out.getvalue()

    return make


def _heic() -> bytes:
    out = io.BytesIO()
    pillow_heif.from_pillow(_halves()).save(out, quality=95)
    return out.getvalue()


def _avif() -> bytes:
    image = pyvips.Image.new_from_memory(_halves().tobytes(), W, H, 3, "uchar")
    return bytes(image.heifsave_buffer(compression="av1", Q=95))


def _pages(fmt: str, **opts: object) -> Callable[[], bytes]:
    def make() -> bytes:
        out = io.BytesIO()
        second = Image.new("RGB", (W, H), GREEN)
        _halves().save(out, fmt, save_all=True, append_images=[second], **opts)
        return out.getvalue()

    return make


def _svg() -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">'
        f'<rect width="{W // 2}" height="{H}" fill="#f00"/>'
        f'<rect x="{W // 2}" width="{W // 2}" height="{H}" fill="#00f"/></svg>'
    ).encode()


# name -> (sniffed format, maker, pages, tolerance per channel)
FORMATS: dict[str, tuple[str, Callable[[], bytes], int, int]] = {
    "heic": ("heif", _heic, 1, 24),
    "avif": ("avif", _avif, 1, 24),
    "tiff-multipage": ("tiff", _pages("TIFF", compression="tiff_deflate"), 2, 0),
    "webp-animated": ("webp", _pages("WEBP", lossless=True, duration=[100, 200]), 2, 0),
    "bmp": ("bmp", _pillow("BMP"), 1, 0),
    "ico": ("ico", _pillow("ICO", sizes=[(W, H)]), 1, 0),
    "svg": ("svg", _svg, 1, 0),
}


@pytest.fixture
def upload(tmp_path: Path, make_source):
    def make(kind: str, data: bytes | None = None):
        path = tmp_path / f"input-{kind}"
        path.write_bytes(FORMATS[kind][1]() if data is None else data)
        return make_source(path, f"input.{kind}")

    return make


@pytest.mark.parametrize("kind", list(FORMATS))
def test_it_sniffs_and_describes_the_input(kind, upload, run_tool):
    fmt, _, pages, _ = FORMATS[kind]
    source = upload(kind)
    assert source.format == fmt
    info = run_tool("info", source, {}).data
    assert info is not None
    assert (info["width"], info["height"]) == (W, H), info
    assert info["pages"] == pages


@pytest.mark.parametrize("kind", list(FORMATS))
def test_it_converts_the_first_page_to_png(kind, upload, run_tool, img):
    tolerance = FORMATS[kind][3]
    out = run_tool("convert", upload(kind), {"format": "png"})
    pixels = img.decode(out.path)
    assert pixels.shape[:2] == (H, W)
    left, right = pixels[H // 2, W // 4, :3], pixels[H // 2, 3 * W // 4, :3]
    assert abs(left - RED).max() <= tolerance, left
    assert abs(right - BLUE).max() <= tolerance, right


@pytest.mark.parametrize("kind", ["heic", "avif", "tiff-multipage", "webp-animated", "bmp"])
def test_a_truncated_input_is_422(kind, upload, run_tool):
    data = FORMATS[kind][1]()
    source = upload(kind, data[: len(data) // 2])
    with pytest.raises(ToolError) as err:
        run_tool("convert", source, {"format": "png"})
    assert err.value.status == 422, err.value.message
