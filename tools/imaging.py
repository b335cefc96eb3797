"""Decoding, guards and encoding in one place: every tool opens and writes images here.

Why one place: every guard (real format from magic bytes, pixel limit checked on the
header before any decode, strict truncation handling, EXIF orientation) must hold for
every tool, and is easier to trust when there is a single path through it.

libvips decodes lazily: `load` returns a pipeline, and a truncated file may only fail
when pixels are computed (often while saving). `runner.execute` turns any `pyvips.Error`
into a `ToolError` through `vips_error`, wherever it happens.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pyvips
from PIL import Image

from tools import encode, svg_render, svg_sanitise
from tools.base import Context, Output, OutputKind, Source, ToolError
from tools.video.formats import VIDEO_FORMATS, sniff_video

logger = logging.getLogger(__name__)

# What `save` can write; other readable formats (bmp, ico, svg) become png by default.
WRITABLE: tuple[str, ...] = encode.WRITABLE
ALPHA_FORMATS = encode.ALPHA_FORMATS
extension = encode.extension
media_type = encode.media_type
save = encode.save

# libvips loader per sniffed format. svg never reaches libvips here: it is sanitised, then
# read and drawn by librsvg in a bounded child process (see open_header, render_svg).
_VIPS_LOADERS = {
    "jpeg": "jpegload",
    "png": "pngload",
    "gif": "gifload",
    "webp": "webpload",
    "tiff": "tiffload",
    "heif": "heifload",
    "avif": "heifload",
    "svg": "svgload_buffer",
    "jxl": "jxlload",
}
# Formats Pillow decodes: libvips has no BMP/ICO loader in the pyvips-binary build, and
# no HEVC decoder (it parses a HEIC header, but pillow-heif's libde265 decodes the pixels).
PILLOW_FORMATS = {"bmp": "BMP", "ico": "ICO", "heif": "HEIF"}
# Of those, the ones without even a libvips header reader.
PILLOW_ONLY = frozenset({"bmp", "ico"})
_MULTIPAGE = {"gif", "webp", "tiff", "heif", "avif", "jxl"}
# Documents accepted as uploads but never decoded as images: only the tools made for them
# (pdf-to-image, with pdfium) read them; every image tool refuses them in `open_header`.
DOCUMENT_FORMATS = frozenset({"pdf"})
# svgload options that change the drawing; access and fail_on do not apply to it.
_SVG_OPTIONS = ("dpi", "scale")
# "truncated" makes truncated/corrupt data an error instead of grey pixels; "warning"
# would also reject files every browser shows (e.g. extraneous bytes before a marker).
_FAIL_ON = "truncated"
_SNIFF_BYTES = 16384

_FTYP_AVIF = {b"avif", b"avis"}
_FTYP_HEIC = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_FTYP_HEIF = _FTYP_HEIC | {b"mif1", b"msf1", b"mif2", b"miaf"}
_BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),  # BigTIFF
    (b"MM\x00+", "tiff"),
    (b"%PDF-", "pdf"),
    (b"\xff\x0a", "jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "jxl"),
)


# --- sniffing -------------------------------------------------------------------------


def sniff(path: Path) -> str | None:
    """The real format of a file from its magic bytes (never its name), or None."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    return sniff_bytes(head) or sniff_video(head)


def decode_base64(value: str, formats: frozenset[str]) -> bytes:
    """The bytes of an image sent as base64 in a setting (with or without a
    `data:...;base64,` prefix), sniffed as one of `formats`; ValueError says what is wrong."""
    text = value.strip()
    if text.startswith("data:"):
        head, _, text = text.partition(",")
        if not head.endswith(";base64"):
            raise ValueError("a data: URL must be base64 encoded")
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if sniff_bytes(data[:16384]) not in formats:
        raise ValueError(f"not a {' or '.join(sorted(f.upper() for f in formats))} image")
    return data


def sniff_bytes(head: bytes) -> str | None:
    """`sniff` on the first bytes of a file (16 KiB is enough for every format)."""
    for magic, fmt in _SIGNATURES:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    if head[:4] == b"\x00\x00\x01\x00" and head[4:6] != b"\x00\x00" and len(head) > 22:
        return "ico"
    return _sniff_ftyp(head) or ("svg" if _looks_like_svg(head) else None)


def _sniff_ftyp(head: bytes) -> str | None:
    """HEIF/AVIF: an ISO-BMFF `ftyp` box whose brands name the image codec."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    major = head[8:12]
    end = min(int.from_bytes(head[:4], "big"), len(head))
    brands = {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _FTYP_AVIF:
        return "avif"
    if major in _FTYP_HEIC:
        return "heif"
    if brands & _FTYP_AVIF:
        return "avif"
    if major in _FTYP_HEIF or brands & _FTYP_HEIC:
        return "heif"
    return None


def _looks_like_svg(head: bytes) -> bool:
    """Text that opens with `<svg` after an optional BOM, XML declaration, comments, doctype."""
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    for _ in range(50):  # bounded: a file of nothing but comments is not an image
        text = text.lstrip()
        for opener, closer in (("<?xml", "?>"), ("<!--", "-->"), ("<!DOCTYPE", ">")):
            if text.startswith(opener):
                if opener == "<!DOCTYPE" and "[" in text[: text.find(">")]:
                    closer = "]>"  # an internal subset: svg-to-raster refuses its entities
                end = text.find(closer)
                if end < 0:
                    return False
                text = text[end + len(closer) :]
                break
        else:
            return text.startswith("<svg")
    return False


def _describe_unknown(head: bytes) -> str:
    """What an unsupported file looks like, for the error message."""
    if not head:
        return "empty file"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown"
    return "text" if b"\x00" not in head else "unknown"


# --- sources --------------------------------------------------------------------------


@cache
def supported_formats() -> frozenset[str]:
    """Sniffed formats this build can decode."""
    found = {fmt for fmt, op in _VIPS_LOADERS.items() if _has_operation(op)}
    return frozenset(found | set(PILLOW_FORMATS))


def _has_operation(name: str) -> bool:
    return bool(pyvips.base.type_find("VipsOperation", name.removesuffix("_buffer")))


def display_name(name: str) -> str:
    """A file name safe to show in messages: no directories, control characters, or novels."""
    base = re.split(r"[\\/]", name)[-1]
    clean = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    clean = clean or "file"
    return clean if len(clean) <= 120 else clean[:117] + "..."


def open_source(path: Path, name: str) -> Source:
    """Sniff an uploaded file; refuse anything that is not an image we can decode."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    shown = display_name(name)
    fmt = sniff_bytes(head) or sniff_video(head)  # videos: only video tools take them (runner)
    if fmt is None or fmt not in supported_formats() | DOCUMENT_FORMATS | VIDEO_FORMATS:
        detected = fmt or _describe_unknown(head)
        raise ToolError(
            "UNSUPPORTED_FORMAT",
            f"{shown} is not a supported image (detected: {detected})",
            400,
        )
    return Source(path=Path(path), name=shown, format=fmt, size=path.stat().st_size)


# --- decoding -------------------------------------------------------------------------


def open_header(source: Source, *, access: str = "random", **opts: Any) -> pyvips.Image:
    """Open a libvips-decodable source lazily: the header is parsed, no pixels are.

    No pixel limit is applied here; use `load` (or `check_pixels`) before decoding.
    For SVG the result is a stand-in with the drawing's header and no drawing (black):
    librsvg runs only in a bounded child process, and `load` is what renders.
    """
    loader = _VIPS_LOADERS.get(source.format)
    if source.format in DOCUMENT_FORMATS:
        raise ToolError(
            "UNSUPPORTED_FORMAT",
            f"{source.name} is a {source.format.upper()} document, not an image "
            "(use pdf-to-image first)",
            400,
        )
    if source.format in VIDEO_FORMATS:
        raise ToolError(
            "UNSUPPORTED_FORMAT",
            f"{source.name} is a video ({source.format}), not an image (use video-upscale)",
            400,
        )
    if loader is None or not _has_operation(loader):
        raise ToolError("UNSUPPORTED_FORMAT", f"{source.name}: cannot decode {source.format}", 400)
    if source.format == "svg":
        dpi, scale = _svg_options(opts)
        return svg_render.header(_read_svg(source), source.name, dpi=dpi, scale=scale)
    opts = {"access": access, "fail_on": _FAIL_ON, **opts}
    try:
        # revalidate: the loader cache is keyed on the file name, and a name may be reused.
        return getattr(pyvips.Image, loader)(str(source.path), revalidate=True, **opts)
    except pyvips.Error as exc:
        reason = vips_message(exc, default=f"not a valid {source.format} file")
        raise ToolError("CORRUPT_IMAGE", f"{source.name} could not be read: {reason}", 422) from exc


def _read_svg(source: Source) -> bytes:
    """The sanitised SVG (see svg_sanitise): sanitised once, though a tool reads the header
    and then the pixels (a 10 MB drawing takes seconds to sanitise)."""
    stat = source.path.stat()
    return _sanitised(source, stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=2)
def _sanitised(source: Source, size: int, mtime_ns: int) -> bytes:
    """The sanitised SVG (see svg_sanitise), drawn from memory: librsvg gets no base
    path to resolve file references against."""
    return svg_sanitise.read(source).xml


def _svg_options(opts: dict[str, Any]) -> tuple[float, float]:
    """`dpi` and `scale` from loader options (default 72 and 1)."""
    unknown = set(opts) - {*_SVG_OPTIONS, "access", "fail_on"}
    if unknown:
        raise TypeError(f"SVG loader options not supported: {sorted(unknown)}")
    return float(opts.get("dpi", 72.0)), float(opts.get("scale", 1.0))


def render_svg(
    svg: bytes,
    name: str,
    max_megapixels: int,
    *,
    dpi: float = 72.0,
    scale: float = 1.0,
    access: str = "random",
    ctx: Context | None = None,
) -> pyvips.Image:
    """Draw sanitised SVG in svg_render's bounded child, refusing a drawing over the
    pixel limit before it is drawn. `ctx`: whose cancel flag and scratch directory to use
    (default: those of the tool running, see `svg_render.running`)."""
    try:
        return svg_render.render(
            svg,
            name,
            dpi=dpi,
            scale=scale,
            max_pixels=max_megapixels * 1_000_000,
            access=access,
            ctx=ctx,
        )
    except svg_render.OverPixelLimit as over:
        check_pixels(over.width, over.height, max_megapixels, name)
        raise  # not reached: check_pixels refuses what the child refused


def check_pixels(width: int, height: int, max_megapixels: int, name: str) -> None:
    """Refuse images over the pixel budget before their pixels are decoded."""
    if width * height > max_megapixels * 1_000_000:
        megapixels = width * height / 1e6
        raise ToolError(
            "IMAGE_TOO_LARGE",
            f"{name} is {width}x{height} px ({megapixels:.0f} MP), "
            f"over the {max_megapixels} MP limit",
            413,
        )


def probe(source: Source, max_megapixels: int, **opts: Any) -> pyvips.Image:
    """The header of a libvips-decodable source, after the pixel-limit check."""
    head = open_header(source, **_page_opts(source.format, opts))
    check_pixels(head.width, head.height, max_megapixels, source.name)
    return head


def load(
    source: Source,
    max_megapixels: int,
    *,
    access: str = "random",
    page: int = 0,
    n: int = 1,
    autorotate: bool = True,
    head: pyvips.Image | None = None,
    **loader_opts: Any,
) -> pyvips.Image:
    """Decode-ready image: header checked against the pixel limit, EXIF orientation applied.

    `page`/`n` select pages of multi-page formats (n=-1: all pages stacked vertically; the
    limit then covers them all). `loader_opts` go to the libvips loader; size-changing ones
    (`shrink`, `scale`) apply after the limit was checked on the full-size header.
    `head`: what `probe` gave for this source with the same `access` and pages, which
    spares reading the header again (each read is a file open and some 30 libvips calls,
    each handing the GIL over).
    """
    if source.format in PILLOW_FORMATS:
        return _pillow_load(source, max_megapixels)
    if source.format == "svg":  # no pages, no orientation; the child checks the pixel limit
        dpi, scale = _svg_options(loader_opts)
        svg = _read_svg(source)
        return render_svg(svg, source.name, max_megapixels, dpi=dpi, scale=scale, access=access)
    pages = _page_opts(source.format, {"page": page, "n": n})
    image = head if head is not None else probe(source, max_megapixels, access=access, **pages)
    if loader_opts:
        image = open_header(source, access=access, **pages, **loader_opts)
    if autorotate and orientation(image) != 1:
        if access != "random":  # rotating by 90 reads columns: needs random access
            image = open_header(source, **pages, **loader_opts)
        image = image.autorot()
    return image


def _page_opts(fmt: str, opts: dict[str, Any]) -> dict[str, Any]:
    """Drop page options for single-image formats, whose loaders refuse them."""
    if fmt in _MULTIPAGE:
        return opts
    return {k: v for k, v in opts.items() if k not in ("page", "n")}


def orientation(image: pyvips.Image) -> int:
    """EXIF orientation (1..8) as libvips read it; 1 when absent or nonsense."""
    if image.get_typeof("orientation") == 0:
        return 1
    value = int(image.get("orientation"))
    return value if 1 <= value <= 8 else 1


def oriented_size(image: pyvips.Image) -> tuple[int, int]:
    """Width and height as displayed, i.e. after EXIF orientation."""
    if orientation(image) >= 5:  # 5..8 swap the axes
        return image.height, image.width
    return image.width, image.height


def autorotate(image: pyvips.Image) -> pyvips.Image:
    """Apply and drop EXIF orientation on an already-reduced (small) image.

    The image is copied to memory first so this works on a sequential pipeline.
    """
    if orientation(image) == 1:
        return image
    return image.copy_memory().autorot()


def _pillow_load(source: Source, max_megapixels: int) -> pyvips.Image:
    """BMP, ICO, HEIC: Pillow decodes, libvips takes the pixels from there.

    libheif applies HEIF's own rotation (irot/imir) while decoding, so no EXIF rotation.
    """
    if source.format == "heif":
        import pillow_heif  # imported here: heavy, and only HEIC input needs it

        pillow_heif.register_heif_opener()
    try:
        with Image.open(source.path, formats=[PILLOW_FORMATS[source.format]]) as im:
            check_pixels(im.width, im.height, max_megapixels, source.name)
            mode = "RGBA" if "A" in im.mode or "transparency" in im.info else "RGB"
            rgb = im.convert(mode)
            icc = im.info.get("icc_profile")
    except Image.DecompressionBombError as exc:
        raise ToolError("IMAGE_TOO_LARGE", f"{source.name}: {exc}", 413) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        reason = str(exc).replace(str(source.path), source.name)
        raise ToolError("CORRUPT_IMAGE", f"{source.name} could not be read: {reason}", 422) from exc
    image = pyvips.Image.new_from_memory(rgb.tobytes(), rgb.width, rgb.height, len(mode), "uchar")
    image = image.copy(interpretation="srgb")
    if icc:  # keep the colour profile, as libvips loaders do
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    return image


def with_background(
    image: pyvips.Image, rgba: tuple[int, int, int, int]
) -> tuple[pyvips.Image, list[float]]:
    """Make `image` able to show the colour `rgba`, and return it as band values.

    Adds an alpha band when the colour is not opaque, goes to sRGB for a non-grey colour
    on a grey image, and scales to 16-bit where the image is.
    """
    r, g, b, a = rgba
    if image.interpretation not in ("srgb", "b-w", "rgb16", "grey16"):
        image = image.colourspace("srgb")
    if image.bands < 3 and not r == g == b:
        image = image.colourspace("srgb")
    if a < 255 and not image.hasalpha():
        image = image.addalpha()
    colour = [r] if image.bands - int(image.hasalpha()) == 1 else [r, g, b]
    values = colour + ([a] if image.hasalpha() else [])
    scale = 257 if image.format == "ushort" else 1
    return image, [float(v * scale) for v in values]


# --- errors ---------------------------------------------------------------------------

# Lines of a libvips error that point at the input file rather than at the operation.
_DECODE_HINTS = re.compile(
    r"load|premature|truncat|corrupt|damaged|out of order|read error|not a (jpeg|png)"
    r"|unexpected end|end of (file|data|stream)|crc|invalid|bad (huffman|seek)",
    re.IGNORECASE,
)


def vips_message(exc: pyvips.Error, default: str = "image processing failed") -> str:
    """The first useful line of a libvips error, with file system paths removed."""
    lines = [line.strip() for line in str(exc.detail or "").splitlines()]
    useful = [line for line in lines if line and not line.startswith("unable to call")]
    text = useful[0] if useful else default
    return re.sub(r"\"?(/[^\s\"/]+){2,}/?\"?", lambda m: Path(m.group().strip('"')).name, text)


def decodes_cleanly(source: Source, max_megapixels: int) -> bool:
    """Whether the whole file decodes. Only used after a failure, to decide whom to blame:
    libvips keeps one error text for the whole process, so under concurrency the message
    of a failed decode may be another thread's, while the return code is always ours."""
    try:
        load(source, max_megapixels, access="sequential", autorotate=False).avg()
    except (pyvips.Error, ToolError):
        return False
    return True


@contextmanager
def pillow_open(source: Source) -> Iterator[Image.Image]:
    """Pillow's lazy Image.open of a source: a file Pillow cannot read is 422 CORRUPT_IMAGE
    named by its upload name (Pillow's own messages carry the server's path)."""
    try:
        with Image.open(source.path) as im:
            yield im
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:  # a real I/O failure
            raise
        reason = str(exc).replace(str(source.path), source.name)
        raise ToolError("CORRUPT_IMAGE", f"{source.name} could not be read: {reason}", 422) from exc


def verify_decodes(source: Source, max_megapixels: int) -> None:
    """Decode the whole first page once and throw the pixels away, for tools that pass a
    file's bytes through (metadata, PDF embedding) yet must refuse a truncated or corrupt
    one like every other tool. JPEGs decode at 1/8 scale: libjpeg still reads every
    entropy-coded byte, so truncation is caught, for a fraction of the time."""
    opts = {"shrink": 8} if source.format == "jpeg" else {}
    load(source, max_megapixels, access="sequential", autorotate=False, **opts).avg()


def vips_error(exc: pyvips.Error) -> ToolError:
    """Map a libvips failure to CORRUPT_IMAGE (the input) or PROCESSING_FAILED (the rest)."""
    text = f"{exc.message}\n{exc.detail}"
    code = "CORRUPT_IMAGE" if _DECODE_HINTS.search(text) else "PROCESSING_FAILED"
    return ToolError(code, vips_message(exc), 422)


# --- outputs --------------------------------------------------------------------------


def output_format(requested: str | None, source_format: str) -> str:
    """The format to write: what was asked, else the input's, else png (bmp, ico, svg...)."""
    if requested:
        return requested
    return source_format if source_format in WRITABLE else "png"


def output_path(ctx: Context, fmt: str) -> Path:
    """A fresh scratch file for a result (never the input's name: inputs are read lazily)."""
    return ctx.scratch_path(f"out-{uuid.uuid4().hex[:12]}{extension(fmt)}")


def engine_name(source_format: str = "", output_format: str = "") -> str:
    """Say honestly which libraries decoded and encoded an image."""
    parts = [f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"]
    if source_format in PILLOW_ONLY:
        parts.append(encode.pillow_version())
    if "heif" in (source_format, output_format):
        parts.append(encode.pillow_heif_version())
    return " + ".join(parts)


def image_output(path: Path, fmt: str, engine: str, **extras: Any) -> Output:
    """An IMAGE `Output` for a file written by `save`, with the right media type."""
    return Output(
        OutputKind.IMAGE,
        path=path,
        filename=f"image{extension(fmt)}",
        media_type=media_type(fmt),
        engine=engine,
        extras=extras,
    )


def write_image(
    image: pyvips.Image, ctx: Context, fmt: str, source: Source, **save_opts: Any
) -> Output:
    """Save to a fresh scratch file and wrap it as the tool's `Output`. Progress from 70 to
    99 follows the rows libvips has computed and encoded; a cancel stops the encode."""
    ctx.check_cancelled()
    ctx.progress(70, f"encoding {fmt}")
    watch = encoding_watch(ctx, fmt) if ctx.watched else None
    path = save(image, output_path(ctx, fmt), fmt, watch=watch, **save_opts)
    ctx.progress(100, "done")
    return image_output(path, fmt, engine_name(source.format, fmt))


def encoding_watch(ctx: Context, fmt: str, start: float = 70, span: float = 29) -> Any:
    """A `save(watch=...)` callback that reports libvips' progress every 5 % and returns
    True (stop) once the job is cancelled.

    For JPEG, PNG and TIFF the pixels are encoded as they arrive: "encoding png: 40 %"
    over `start`..`start + span`. Encoders that take the whole image (`ENCODES_AT_END`)
    say what the percentage really counts, "computing pixels: 40 %" over the first half
    of the span, then "encoding avif" once all the pixels are there: the encode itself
    reports no progress, and claiming 99 % for its seconds would be a lie.
    """
    at_end = fmt in encode.ENCODES_AT_END
    label = "computing pixels" if at_end else f"encoding {fmt}"
    share = span / 2 if at_end else span
    reported = [-5]

    def watch(percent: int) -> bool:
        done = percent >= 100 > reported[0]  # the last step is never skipped
        if percent >= reported[0] + 5 or done:
            reported[0] = percent
            ctx.progress(start + share * percent / 100, f"{label}: {percent} %")
            if at_end and percent >= 100:
                ctx.progress(start + share, f"encoding {fmt}")
        return ctx.is_cancelled()

    return watch


def configure(
    concurrency: int = 0,
    svg_limits: svg_render.Limits | None = None,
    operation_cache: bool = True,
) -> None:
    """Process-wide libvips settings; the apps call this once at start-up.

    `concurrency` 0 keeps libvips' default (VIPS_CONCURRENCY or the number of cores).
    The operation cache stays small: a worker sees each image once, so caching buys little
    and holds memory and file descriptors. Without `operation_cache` (the web process,
    where many small jobs run at once) there is none: no file of a finished job is held
    open, so nothing has to be released after each job, a trim that takes libvips' cache
    lock from the other requests (+1 and +4 % requests/s at 1 MP in two A/B runs of
    bench/http_compare.py, about its run-to-run spread).
    `svg_limits` bound each SVG header read and render (default: `svg_render.Limits()`).
    """
    global _CACHING
    if svg_limits is not None:
        svg_render.configure(svg_limits)
    if concurrency > 0:
        pyvips.concurrency_set(concurrency)
    _CACHING = operation_cache
    pyvips.cache_set_max(64 if operation_cache else 0)
    pyvips.cache_set_max_mem(32 * 1024 * 1024)
    pyvips.cache_set_max_files(_CACHE_FILES)


_CACHE_FILES = 16
_CACHING = True


def release_cached_files() -> None:
    """Close the files libvips' operation cache still holds open (a finished job's inputs
    and outputs, often deleted already: their space is only freed once closed)."""
    if not _CACHING:
        return
    pyvips.cache_set_max_files(0)  # trims the cache at once
    pyvips.cache_set_max_files(_CACHE_FILES)
