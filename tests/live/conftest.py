"""Fixtures shared by the live tests."""

import pytest
import pyvips


@pytest.fixture(scope="session")
def big_jpeg() -> bytes:
    """A 12-megapixel JPEG with some texture (about 2 MB)."""
    xyz = pyvips.Image.xyz(4000, 3000)
    x, y = xyz[0], xyz[1]
    image = ((x / 16) % 255).bandjoin([(y / 12) % 255, ((x + y) / 28) % 255])
    image = image + pyvips.Image.gaussnoise(4000, 3000, sigma=12)
    return image.cast("uchar").write_to_buffer(".jpg", Q=85)
