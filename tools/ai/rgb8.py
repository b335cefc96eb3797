"""8-bit RGB working copies for the restoration tools, and writing their results back.

The models (LaMa, GFPGAN, CodeFormer, DDColor) and OpenCV's inpainting take 8-bit RGB.
A tool loads its image here (EXIF orientation applied, the pixel limit checked, CMYK and
grey turned into sRGB), keeping the alpha band and the ICC profile aside
(`tools.colour.split`), works on `Working.rgb8`, and `write` puts the result back the way
noise-removal does: on a 16-bit image only the change is applied (scaled by 257), so the
pixels the tool left alone keep their full depth. Alpha is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvips

from tools import arrays, colour, imaging
from tools.base import Context, Output, Source


@dataclass
class Working:
    """A decoded image: its colour bands at their own depth and as 8-bit RGB."""

    image: pyvips.Image
    parts: colour.Split
    pixels: np.ndarray  # (H, W, 3) uint8 or uint16
    rgb8: np.ndarray  # (H, W, 3) uint8

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) as displayed (after EXIF orientation)."""
        return self.image.width, self.image.height


def load(source: Source, ctx: Context) -> Working:
    """Decode the first page/frame of `source` into a Working copy."""
    image = imaging.load(source, ctx.max_megapixels)
    parts = colour.split(image)
    pixels = arrays.to_array(parts.colour)
    eight = arrays.eight_bit(pixels)
    return Working(image, parts, pixels, np.ascontiguousarray(eight))


def write(
    work: Working, rgb8: np.ndarray, ctx: Context, fmt: str, source: Source, quality: int | None
) -> Output:
    """Encode the new 8-bit colour bands with the original alpha, ICC and resolution."""
    if work.parts.format == "uchar":
        result = rgb8
    else:
        change = rgb8.astype(np.int32) - work.rgb8.astype(np.int32)
        result = np.clip(work.pixels.astype(np.int32) + change * 257, 0, 65535).astype(np.uint16)
    rgb = arrays.from_array(result, work.parts.interpretation, like=work.image)
    return imaging.write_image(colour.join(work.parts, rgb), ctx, fmt, source, quality=quality)
