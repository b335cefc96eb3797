"""Encoders: one saver per output format, re-exported by `tools.imaging`.

libvips writes every format except HEIC: the pyvips-binary build has no HEVC encoder, so
HEIC goes through pillow-heif (libheif + x265). AVIF is libvips `heifsave` with AV1.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pyvips

from tools.base import Cancelled, ToolError
from tools.video import formats as video_formats

WRITABLE: tuple[str, ...] = ("jpeg", "png", "webp", "avif", "tiff", "gif", "heif")
ALPHA_FORMATS = frozenset({"png", "webp", "avif", "tiff", "gif", "heif"})
DEFAULT_QUALITY = {"jpeg": 80, "webp": 80, "avif": 50, "heif": 50}

_EXTENSIONS = {
    "jpeg": ".jpg",
    "png": ".png",
    "webp": ".webp",
    "avif": ".avif",
    "tiff": ".tiff",
    "gif": ".gif",
    "heif": ".heic",
    "bmp": ".bmp",
    "ico": ".ico",
    "svg": ".svg",
    "pdf": ".pdf",
    "jxl": ".jxl",
    **video_formats.EXTENSIONS,
}
_MEDIA_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "tiff": "image/tiff",
    "gif": "image/gif",
    "heif": "image/heic",
    "bmp": "image/bmp",
    "ico": "image/vnd.microsoft.icon",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "jxl": "image/jxl",
    **video_formats.MEDIA_TYPES,
}
# libvips VipsForeignKeep flags. Stripping keeps the ICC profile: dropping it would shift
# the colours of wide-gamut photos, and it carries nothing private.
_KEEP_ICC = 8
_KEEP_ALL = 31
_EIGHT_BIT_ONLY = {"jpeg", "webp", "gif", "heif", "avif"}
# Encoders that take the whole image and report nothing while they run: libvips' progress
# reaches 100 % once the pixels are computed, then the encode itself (seconds for a large
# AVIF) follows. JPEG, PNG and TIFF encode row by row as the pixels arrive.
ENCODES_AT_END = frozenset({"webp", "gif", "heif", "avif"})


def extension(fmt: str) -> str:
    """File extension with the dot, e.g. `.jpg` for jpeg, `.heic` for heif."""
    return _EXTENSIONS.get(fmt, f".{fmt}")


def media_type(fmt: str) -> str:
    """The IANA media type of a format name as `sniff` returns it."""
    return _MEDIA_TYPES.get(fmt, "application/octet-stream")


def pillow_version() -> str:
    return f"Pillow {metadata.version('pillow')}"


def pillow_heif_version() -> str:
    return f"pillow-heif {metadata.version('pillow-heif')}"


def save(
    image: pyvips.Image,
    path: Path,
    fmt: str,
    *,
    quality: int | None = None,
    strip: bool = True,
    watch: Callable[[int], bool] | None = None,
    **opts: Any,
) -> Path:
    """Encode `image` to `path` as `fmt` and return the path.

    `watch(percent)` is called as libvips computes and writes the rows (real progress for
    slow encoders such as AVIF), and with 100 once the file is written; it returns True
    to stop the encode, which then raises `Cancelled` and leaves no file.
    `quality` None means the format default (jpeg/webp 80, avif/heif 50; png/tiff/gif
    lossless). For png a quality means palette quantisation, for gif fewer colours, for
    tiff JPEG compression. `strip` drops EXIF/XMP/IPTC but keeps the ICC profile.
    JPEG has no alpha: transparent areas are flattened onto white.
    """
    saver = _SAVERS.get(fmt)
    if saver is None:
        raise ToolError("UNSUPPORTED_FORMAT", f"cannot write {fmt} images", 400)
    prepared = _prepare(image, fmt)
    stopped = threading.Event()
    if watch is not None:
        prepared, stopped = _watched(prepared, watch)
    try:
        saver(prepared, path, quality, _KEEP_ICC if strip else _KEEP_ALL, opts)
    except BaseException:  # lazy decoding fails here too: leave no half-written file
        path.unlink(missing_ok=True)
        if stopped.is_set():
            raise Cancelled() from None
        raise
    # libvips stops at a kill only while it still computes pixels, and its progress
    # signals stop when its threads have taken the last tile, which a busy machine may
    # reach before 100 %: the end is reported here, and a cancel seen late still counts.
    if watch is not None and (stopped.is_set() or watch(100)):
        path.unlink(missing_ok=True)
        raise Cancelled()
    return path


def _watched(
    image: pyvips.Image, watch: Callable[[int], bool]
) -> tuple[pyvips.Image, threading.Event]:
    """A private copy of `image` whose evaluation progress goes to `watch`, which kills
    the evaluation when it returns True. libvips emits the signal on the thread that
    called the saver; the check keeps `watch` (which may write to a database) off any
    other thread regardless.

    The handler goes on a copy (libvips never caches `copy`) because `image` may come from
    libvips' operation cache and be handed to the next job as well: a handler left on it
    outlives this call's Python callback, and its next emission aborts the process
    (cffi: "ffi.from_handle() ... points to garbage"); a kill set on it would also stop
    that other job."""
    image = image.copy()
    caller = threading.get_ident()
    stopped = threading.Event()

    def on_eval(evaluated: pyvips.Image, progress: Any) -> None:
        if threading.get_ident() == caller and not stopped.is_set() and watch(progress.percent):
            stopped.set()
            evaluated.set_kill(True)

    image.set_progress(True)
    image.signal_connect("eval", on_eval)
    return image, stopped


def _prepare(image: pyvips.Image, fmt: str) -> pyvips.Image:
    """Bring any decoded image to something the encoder takes: sRGB/grey, 8-bit if needed."""
    interpretation = image.interpretation
    if interpretation == "cmyk":
        embedded = image.get_typeof("icc-profile-data") != 0
        image = image.icc_transform("srgb", embedded=embedded, input_profile="cmyk")
    elif interpretation not in ("srgb", "b-w", "rgb16", "grey16"):
        image = image.colourspace("srgb")
    if fmt in _EIGHT_BIT_ONLY or image.format not in ("uchar", "ushort"):
        image = _to_8bit(image)
    if fmt == "heif" and image.bands < 3:
        image = image.colourspace("srgb")
    if fmt == "jpeg" and image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    return image


def _to_8bit(image: pyvips.Image) -> pyvips.Image:
    if image.format == "uchar":
        return image
    if image.interpretation in ("rgb16", "grey16"):
        return image.colourspace("srgb" if image.interpretation == "rgb16" else "b-w")
    return image.cast("uchar")


def _q(fmt: str, quality: int | None) -> int:
    return quality if quality is not None else DEFAULT_QUALITY[fmt]


def _save_jpeg(image: pyvips.Image, path: Path, q: int | None, keep: int, opts: dict) -> None:
    # No optimize_coding by default: ~1.5% smaller files for ~5% more time per resize.
    image.jpegsave(str(path), Q=_q("jpeg", q), keep=keep, **opts)


def _save_png(image: pyvips.Image, path: Path, q: int | None, keep: int, opts: dict) -> None:
    if q is not None and q < 100:  # lossy png = palette quantisation (libimagequant)
        opts = {"compression": 6, "palette": True, "Q": q, **opts}
        image = _to_8bit(image)
    else:  # adaptive filtering: ~30% smaller than none for photos, for little time
        opts = {"compression": 6, "filter": "all", **opts}
    image.pngsave(str(path), keep=keep, **opts)


def _save_webp(image: pyvips.Image, path: Path, q: int | None, keep: int, opts: dict) -> None:
    image.webpsave(str(path), Q=_q("webp", q), keep=keep, **opts)


def _save_avif(image: pyvips.Image, path: Path, q: int | None, keep: int, opts: dict) -> None:
    opts = {"effort": 4, **opts}
    image.heifsave(str(path), compression="av1", Q=_q("avif", q), keep=keep, **opts)


def _save_tiff(image: pyvips.Image, path: Path, q: int | None, keep: int, opts: dict) -> None:
    if q is not None and not image.hasalpha() and image.format == "uchar":
        opts = {"compression": "jpeg", "Q": q, **opts}
    else:
        opts = {"compression": "deflate", "predictor": "horizontal", **opts}
    image.tiffsave(str(path), keep=keep, **opts)


def _save_gif(image: pyvips.Image, path: Path, q: int | None, keep: int, opts: dict) -> None:
    if q is not None:  # fewer colours for a lower quality: 1 bit at q<=12, 8 bits at q>=88
        opts = {"bitdepth": max(1, min(8, round(q * 8 / 100))), **opts}
    image.gifsave(str(path), keep=keep, **opts)


def _save_heif(image: pyvips.Image, path: Path, q: int | None, keep: int, opts: dict) -> None:
    """HEIC through pillow-heif: this libvips build cannot encode HEVC."""
    import pillow_heif  # imported here: heavy, and only HEIC output needs it

    mode = "RGBA" if image.bands == 4 else "RGB"
    size = (image.width, image.height)
    try:
        heif = pillow_heif.from_bytes(mode, size, image.write_to_memory())
        if image.get_typeof("icc-profile-data") != 0:
            heif.info["icc_profile"] = image.get("icc-profile-data")
        exif = image.get("exif-data") if keep == _KEEP_ALL and _has(image, "exif-data") else None
        heif.save(str(path), quality=_q("heif", q), exif=exif, **opts)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ToolError("PROCESSING_FAILED", f"HEIC encoding failed: {exc}", 422) from exc


def _has(image: pyvips.Image, field: str) -> bool:
    return bool(image.get_typeof(field) != 0)


_SAVERS: dict[str, Callable[[pyvips.Image, Path, int | None, int, dict], None]] = {
    "jpeg": _save_jpeg,
    "png": _save_png,
    "webp": _save_webp,
    "avif": _save_avif,
    "tiff": _save_tiff,
    "gif": _save_gif,
    "heif": _save_heif,
}
