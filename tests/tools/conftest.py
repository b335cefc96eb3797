"""Fixtures for the engine tests: real photos, a Context on tmp_path, decode/compare helpers.

These tests never need Django: run them with `pytest -p no:django tests/tools`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
import pytest
import pyvips
from PIL import Image

from tests import badfiles
from tools import imaging, registry, runner
from tools.base import Context, Output, Source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ASTRONAUT = FIXTURES / "astronaut.png"  # 512x512 portrait, one face (NASA, public domain)

pillow_heif.register_heif_opener()


def source_for(path: Path, name: str | None = None) -> Source:
    """A Source the way the apps build one: sniffed, sized, name sanitised."""
    return imaging.open_source(path, name or path.name)


def decode(path: Path) -> np.ndarray:
    """Pixels of an output file as a float array (H, W, bands), by its sniffed format."""
    if imaging.sniff(path) == "heif":  # libvips here cannot decode HEVC
        with Image.open(path) as im:
            return np.asarray(im, dtype=np.float32).reshape(im.height, im.width, -1)
    image = pyvips.Image.new_from_file(str(path), access="sequential")
    return image.numpy().astype(np.float32).reshape(image.height, image.width, -1)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two same-size images (colour bands only)."""
    assert a.shape[:2] == b.shape[:2], f"{a.shape} != {b.shape}"
    bands = min(a.shape[2], b.shape[2], 3)
    return float(np.abs(a[..., :bands] - b[..., :bands]).mean())


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Global SSIM of the luma of two same-size images: 1.0 means the same structure."""
    assert a.shape[:2] == b.shape[:2], f"{a.shape} != {b.shape}"
    x, y = (img[..., :3].mean(axis=2) for img in (a, b))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    cov = ((x - x.mean()) * (y - y.mean())).mean()
    num = (2 * x.mean() * y.mean() + c1) * (2 * cov + c2)
    return float(num / ((x.mean() ** 2 + y.mean() ** 2 + c1) * (x.var() + y.var() + c2)))


def pillow_pixels(path: Path) -> np.ndarray:
    """A reference decode by a different library (Pillow), orientation applied."""
    from PIL import ImageOps

    with Image.open(path) as im:
        upright = ImageOps.exif_transpose(im)
        return np.asarray(upright, dtype=np.float32).reshape(upright.height, upright.width, -1)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def photo() -> Source:
    """600x400 JPEG photo with EXIF (Make, Model, DateTime, GPS) at 300 dpi."""
    return source_for(FIXTURES / "photo.jpg")


@pytest.fixture
def astronaut() -> Source:
    """512x512 PNG portrait with one face (NASA, public domain)."""
    return source_for(ASTRONAUT)


@pytest.fixture
def photo_rotated() -> Source:
    """The same photo stored sideways (400x600) with EXIF Orientation=6."""
    return source_for(FIXTURES / "photo_rotated.jpg")


@pytest.fixture
def transparent() -> Source:
    """451x300 RGBA PNG: a photo inside a soft-edged ellipse, transparent corners."""
    return source_for(FIXTURES / "transparent.png")


@pytest.fixture
def truncated_jpeg(tmp_path: Path) -> Source:
    """photo.jpg cut in half: the header parses, the pixels do not."""
    path = tmp_path / "truncated.jpg"
    path.write_bytes(badfiles.truncated_jpeg())
    return source_for(path)


@pytest.fixture
def huge_png(tmp_path: Path) -> Source:
    """A 100-byte PNG whose header claims 60000x60000 pixels."""
    path = tmp_path / "huge.png"
    path.write_bytes(badfiles.png_claiming(60000, 60000))
    return source_for(path)


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return Context(scratch_dir=tmp_path / "scratch")


@pytest.fixture
def make_source() -> Callable[..., Source]:
    return source_for


@pytest.fixture
def run_tool(ctx: Context) -> Callable[[str, Source, dict[str, Any]], Output]:
    """Validate settings and execute a tool the way the apps do."""

    def run(tool_id: str, source: Source, settings: dict[str, Any]) -> Output:
        tool = registry.get(tool_id)
        assert tool is not None
        return runner.execute(tool, [source], runner.validate_settings(tool, settings), ctx)

    return run


@pytest.fixture
def run_many(ctx: Context) -> Callable[[str, list[Source], dict[str, Any]], Output]:
    """`run_tool` for multi-file tools: several sources, in order."""

    def run(tool_id: str, sources: list[Source], settings: dict[str, Any]) -> Output:
        tool = registry.get(tool_id)
        assert tool is not None
        return runner.execute(tool, sources, runner.validate_settings(tool, settings), ctx)

    return run


class ImageHelpers:
    """Decode and compare helpers, handed to tests as the `img` fixture (fixtures work
    under every pytest import mode, unlike importing from conftest)."""

    decode = staticmethod(decode)
    mad = staticmethod(mad)
    ssim = staticmethod(ssim)
    pillow_pixels = staticmethod(pillow_pixels)
    png_header_only = staticmethod(badfiles.png_claiming)


@pytest.fixture
def img() -> type[ImageHelpers]:
    return ImageHelpers


@pytest.fixture
def solid_image(tmp_path: Path) -> Callable[..., Source]:
    """A PNG of one colour (RGB or RGBA values), as a Source: `solid_image(w, h, (r, g, b))`."""

    def make(width: int, height: int, values: tuple[int, ...], name: str = "solid.png") -> Source:
        image = (pyvips.Image.black(width, height) + list(values)).cast("uchar")
        kind = "srgb" if len(values) >= 3 else "b-w"
        path = tmp_path / f"{len(list(tmp_path.iterdir()))}-{name}"
        image.copy(interpretation=kind).pngsave(str(path))
        return source_for(path, name)

    return make
