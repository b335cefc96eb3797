"""What the library records about an image: its real format and displayed size, from the header."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tools import imaging
from tools.base import Source, ToolError


@dataclass(frozen=True)
class ImageFacts:
    """An image's sniffed format, its media type and its size as displayed (EXIF-rotated)."""

    name: str  # display name, sanitised
    format: str
    media_type: str
    width: int
    height: int


def read_facts(path: Path, name: str, max_megapixels: int | None) -> ImageFacts:
    """Sniff `path` and read its header; no pixel is decoded.

    Non-images raise UNSUPPORTED_FORMAT (400), unreadable headers CORRUPT_IMAGE (422) and,
    when `max_megapixels` is given, images over it IMAGE_TOO_LARGE (413).
    """
    source = imaging.open_source(path, name)
    width, height = _dimensions(source, max_megapixels)
    return ImageFacts(
        name=source.name,
        format=source.format,
        media_type=imaging.media_type(source.format),
        width=width,
        height=height,
    )


def _dimensions(source: Source, max_megapixels: int | None) -> tuple[int, int]:
    if source.format in imaging.PILLOW_ONLY:  # BMP/ICO: libvips has no header reader
        return _pillow_dimensions(source, max_megapixels)
    if max_megapixels is None:
        head = imaging.open_header(source)
    else:
        head = imaging.probe(source, max_megapixels)
    return imaging.oriented_size(head)


def _pillow_dimensions(source: Source, max_megapixels: int | None) -> tuple[int, int]:
    """Pillow opens lazily: this reads the header only."""
    try:
        with Image.open(source.path, formats=[imaging.PILLOW_FORMATS[source.format]]) as im:
            width, height = im.size
    except Image.DecompressionBombError as exc:
        raise ToolError("IMAGE_TOO_LARGE", f"{source.name}: {exc}", 413) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ToolError("CORRUPT_IMAGE", f"{source.name} could not be read: {exc}", 422) from exc
    if max_megapixels is not None:
        imaging.check_pixels(width, height, max_megapixels, source.name)
    return width, height
