"""pyvips <-> numpy for the tools that work on pixel arrays (OpenCV, seam carving).

Both directions go through one contiguous memory buffer (`write_to_memory`,
`new_from_memory`): no per-pixel Python, no PNG round trip. `from_array` keeps what an
encoder needs from the original: the ICC profile and the resolution.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

import numpy as np
import pyvips

_DTYPES = {
    "uchar": np.uint8,
    "char": np.int8,
    "ushort": np.uint16,
    "short": np.int16,
    "uint": np.uint32,
    "int": np.int32,
    "float": np.float32,
    "double": np.float64,
}
_FORMATS = {np.dtype(dtype).str: fmt for fmt, dtype in _DTYPES.items()}
_ICC = "icc-profile-data"


def to_array(image: pyvips.Image) -> np.ndarray:
    """The pixels as a writable (height, width, bands) array of the image's band format."""
    dtype = _DTYPES[image.format]
    data = np.frombuffer(image.write_to_memory(), dtype=dtype)
    return data.reshape(image.height, image.width, image.bands).copy()


def from_array(
    pixels: np.ndarray, interpretation: str, like: pyvips.Image | None = None
) -> pyvips.Image:
    """An image of a (height, width[, bands]) array, tagged with `interpretation`; the ICC
    profile and resolution of `like` are carried over when given."""
    pixels = np.ascontiguousarray(pixels)
    bands = 1 if pixels.ndim == 2 else pixels.shape[2]
    fmt = _FORMATS[pixels.dtype.str]
    height, width = pixels.shape[:2]
    image = pyvips.Image.new_from_memory(pixels.data, width, height, bands, fmt)
    image = image.copy(interpretation=interpretation)
    if like is None:
        return image
    image = image.copy(xres=like.xres, yres=like.yres)
    if like.get_typeof(_ICC) != 0:
        image.set_type(pyvips.GValue.blob_type, _ICC, like.get(_ICC))
    return image


def eight_bit(pixels: np.ndarray) -> np.ndarray:
    """8-bit pixels for a model or OpenCV: 16-bit values scaled down (65535 -> 255)."""
    return pixels if pixels.dtype == np.uint8 else (pixels // 257).astype(np.uint8)


Box = tuple[int, int, int, int]  # left, top, width, height in pixels


def grow_box(box: Box, padding: float, width: int, height: int) -> Box:
    """The box grown by `padding` x its size on every side, clipped to the image."""
    left, top, w, h = box
    dx, dy = round(w * padding), round(h * padding)
    x0, y0 = max(left - dx, 0), max(top - dy, 0)
    x1, y1 = min(left + w + dx, width), min(top + h + dy, height)
    return x0, y0, x1 - x0, y1 - y0


@cache
def cv2() -> ModuleType:
    """OpenCV, imported on first use: it takes ~70 ms, and the web process never needs it."""
    import cv2 as opencv

    return opencv
