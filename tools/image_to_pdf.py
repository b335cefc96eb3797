"""Image to PDF: one page per image, in upload order, through img2pdf.

img2pdf embeds JPEG data as it is (DCT passthrough) and PNG data without re-encoding,
so photos lose nothing. Everything else is decoded by libvips first (EXIF rotation
applied, transparency flattened onto white, first page/frame only) and embedded as JPEG
quality 92 when the source was lossy (JPEG, WebP, AVIF, HEIC) or PNG otherwise; that is
also what happens to a rotated JPEG, a PNG with alpha, and any image `cover` crops.

Page geometry, in PDF points (1/72 inch):
- `pageSize` A4, Letter, Legal, A3 or A5, or `fit`: the page takes the image's size at
  1 px = 1 pt (scaled down to the PDF limit of 14400 pt a side) plus the margins.
- `orientation` portrait, landscape, or auto (landscape for wider-than-tall images).
  Ignored with `fit`.
- `margin` in points on every side (72 pt = 1 inch = 25.4 mm; 0 to 144).
- `fitMode` contain (whole image, as large as fits, centred), cover (fills the area
  inside the margins, the overflow cropped at the centre) or stretch (fills it, the
  aspect ratio ignored).

Limits: up to 200 images (the runner's bound); img2pdf builds the document in memory,
so the PDF's size is bounded by the memory of the worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata as importlib_metadata
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, Literal

import pyvips
from pydantic import BeforeValidator, Field

from tools import imaging
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolSettings

_MM = 72 / 25.4
PAGE_SIZES: dict[str, tuple[float, float]] = {  # portrait, in points
    "A3": (297 * _MM, 420 * _MM),
    "A4": (210 * _MM, 297 * _MM),
    "A5": (148 * _MM, 210 * _MM),
    "Letter": (612.0, 792.0),
    "Legal": (612.0, 1008.0),
}
_MAX_PAGE_PT = 14400.0  # PDF viewers' limit for a page side (200 inches)
_LOSSY_SOURCES = frozenset({"jpeg", "webp", "avif", "heif"})
_JPEG_QUALITY = 92
_NAMES = {name.lower(): name for name in (*PAGE_SIZES, "fit")}


def _canonical_page(value: Any) -> Any:
    return _NAMES.get(value.strip().lower(), value) if isinstance(value, str) else value


PageSize = Annotated[
    Literal["A4", "Letter", "Legal", "A3", "A5", "fit"], BeforeValidator(_canonical_page)
]


class Settings(ToolSettings):
    """Page size, orientation, margin (points) and how each image fills its page."""

    pageSize: PageSize = Field("A4", description='A paper size, or "fit" (page = image).')
    orientation: Literal["portrait", "landscape", "auto"] = Field(
        "auto", description="auto: landscape pages for wider-than-tall images."
    )
    margin: float = Field(0, ge=0, le=144, description="Margin on every side, in points.")
    fitMode: Literal["contain", "cover", "stretch"] = Field(
        "contain", description="contain: whole image; cover: fill, cropped; stretch: fill."
    )


@dataclass(frozen=True)
class Page:
    """Where one image goes: page size and drawn image size (points), and the centred
    crop (left, top, width, height in pixels) that `cover` needs, if any."""

    size: tuple[float, float]
    image: tuple[float, float]
    crop: tuple[int, int, int, int] | None = None


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Make one PDF with a page per image."""
    pages: list[Page] = []
    files: list[Path] = []
    made: list[Path] = []  # re-encoded images: scratch files to delete once embedded
    try:
        for index, source in enumerate(inputs):
            ctx.check_cancelled()
            ctx.progress(5 + 80 * index / len(inputs), f"reading {source.name}")
            image = imaging.load(source, ctx.max_megapixels)  # lazy; rotation applied
            pages.append(plan(image.width, image.height, settings))
            files.append(_embeddable(source, image, pages[-1], ctx))
            if files[-1] != source.path:
                made.append(files[-1])
        ctx.progress(90, "writing the PDF")
        path = _write_pdf(files, pages, ctx)
    finally:
        for temporary in made:
            temporary.unlink(missing_ok=True)
    ctx.progress(100, "done")
    engine = f"img2pdf {importlib_metadata.version('img2pdf')} + {imaging.engine_name()}"
    return Output.file(OutputKind.DOCUMENT, path, "document.pdf", engine, pages=len(pages))


def _write_pdf(files: list[Path], pages: list[Page], ctx: Context) -> Path:
    img2pdf = _img2pdf()
    path = imaging.output_path(ctx, "pdf")
    try:
        with open(path, "wb") as out:
            img2pdf.convert(
                files,
                outputstream=out,
                layout_fun=_layout(iter(pages)),
                rotation=img2pdf.Rotation.none,  # every image is upright already
                first_frame_only=True,
                engine=img2pdf.Engine.internal,  # img2pdf's own writer: no pikepdf needed
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@cache
def _img2pdf() -> ModuleType:
    """img2pdf, imported on first use: it loads pikepdf, too slow for every web process."""
    import img2pdf

    return img2pdf


def plan(width: int, height: int, s: Settings) -> Page:
    """The page for an image of `width` x `height` pixels (as displayed)."""
    if s.pageSize == "fit":
        scale = min(1.0, (_MAX_PAGE_PT - 2 * s.margin) / max(width, height))
        drawn = (width * scale, height * scale)
        return Page((drawn[0] + 2 * s.margin, drawn[1] + 2 * s.margin), drawn)
    page_w, page_h = PAGE_SIZES[s.pageSize]
    landscape = s.orientation == "landscape" or (s.orientation == "auto" and width > height)
    if landscape:
        page_w, page_h = page_h, page_w
    box = (page_w - 2 * s.margin, page_h - 2 * s.margin)  # > 130 pt: margin <= 144, A5
    if s.fitMode == "stretch":
        return Page((page_w, page_h), box)
    if s.fitMode == "cover":
        return Page((page_w, page_h), box, _cover_crop(width, height, box[0] / box[1]))
    scale = min(box[0] / width, box[1] / height)
    return Page((page_w, page_h), (width * scale, height * scale))


def _cover_crop(width: int, height: int, aspect: float) -> tuple[int, int, int, int] | None:
    """The centred crop of the image to `aspect` (width / height); None if none is needed."""
    if width / height > aspect:
        new_width = max(1, round(height * aspect))
        crop = ((width - new_width) // 2, 0, new_width, height)
    else:
        new_height = max(1, round(width / aspect))
        crop = (0, (height - new_height) // 2, width, new_height)
    return None if crop[2:] == (width, height) else crop


def _layout(pages: Iterator[Page]) -> Callable[[int, int, Any], tuple[float, ...]]:
    """img2pdf's layout callback: it asks once per image, in order, and centres the image."""

    def layout(_width_px: int, _height_px: int, _dpi: Any) -> tuple[float, ...]:
        page = next(pages)
        return (*page.size, *page.image)

    return layout


def _embeddable(source: Source, image: pyvips.Image, page: Page, ctx: Context) -> Path:
    """The file img2pdf embeds: the upload itself when it can pass through unchanged, else
    the decoded (cropped, flattened) image re-encoded to a scratch file."""
    if page.crop is None and _passes_through(source, image):
        imaging.verify_decodes(source, ctx.max_megapixels)  # else a broken file is embedded
        return source.path
    if page.crop is not None:
        image = image.crop(*page.crop)
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    fmt = "jpeg" if source.format in _LOSSY_SOURCES else "png"
    quality = _JPEG_QUALITY if fmt == "jpeg" else None
    return imaging.save(image, imaging.output_path(ctx, fmt), fmt, quality=quality)


def _passes_through(source: Source, image: pyvips.Image) -> bool:
    """Whether img2pdf can embed the file as it is: an upright JPEG, a PNG without alpha."""
    if source.format == "jpeg":
        return imaging.orientation(imaging.open_header(source)) == 1
    return source.format == "png" and not image.hasalpha()


TOOL = Tool(
    id="image-to-pdf",
    name="Image to PDF",
    category="optimization",
    description="Combine images into one PDF, a page each (A4, Letter, Legal, A3, A5 or "
    "fit; contain, cover or stretch).",
    settings=Settings,
    run=run,
    inputs=Inputs.MANY,
    output=OutputKind.DOCUMENT,
    inline=False,
)
