"""300 px JPEG previews, rendered once per blob and kept in the library storage.

A thumbnail is keyed by its blob's sha256 (`thumbs/<sha256>.jpg`): versions with the same
content share it, and it is deleted with its blob.
"""

from __future__ import annotations

from pathlib import Path

import pyvips
from django.conf import settings

from apps.library import blobs
from apps.library.models import FileVersion
from tools import imaging
from tools.base import Source

SIZE = 300
QUALITY = 80


def ensure_thumbnail(version: FileVersion) -> str:
    """The storage key of the version's thumbnail, rendering and storing it on first use."""
    key = blobs.thumbnail_key(version.blob_id)
    if blobs.library_storage().exists(key):
        return key
    suffix = imaging.extension(version.format)
    with blobs.local_file(version.blob.key, suffix) as path, blobs.scratch_file(".jpg") as out:
        source = Source(path=path, name=version.file.name, format=version.format, size=version.size)
        blobs.put(key, render(source, out))
    return key


def render(source: Source, target: Path) -> Path:
    """Fit the image inside SIZE×SIZE (never enlarged), upright, as an sRGB JPEG at `target`.

    The pixel limit is checked on the header first; libvips then decodes at a reduced size
    where the format allows it (JPEG, WebP, HEIF, SVG, PDF shrink on load).
    """
    try:
        image = _reduced(source)
        return imaging.save(image, target, "jpeg", quality=QUALITY)
    except pyvips.Error as exc:  # lazy decoding fails while saving, too
        raise imaging.vips_error(exc) from exc


def _reduced(source: Source) -> pyvips.Image:
    limit = settings.MAX_MEGAPIXELS
    if source.format in imaging.PILLOW_FORMATS:  # decoded by Pillow, already upright
        return imaging.load(source, limit).thumbnail_image(SIZE, height=SIZE, size="down")
    imaging.probe(source, limit)
    if source.format == "svg":  # from memory: librsvg gets no base path to resolve references
        data = source.path.read_bytes()
        return pyvips.Image.thumbnail_buffer(data, SIZE, height=SIZE, size="down")
    return pyvips.Image.thumbnail(
        str(source.path), SIZE, height=SIZE, size="down", fail_on="truncated"
    )
