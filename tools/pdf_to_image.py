"""PDF to image: render PDF pages with PDFium (pypdfium2), one image per page.

`pages` is "all" or a list of pages and ranges such as "1-3,5" (1-based, in the order
given, duplicates dropped). One page gives that image; several give a ZIP of
`page-001.png`, ... Pages are rendered on white at `dpi` (36..600).

Limits: documents over MAX_PDF_PAGES (200) pages by PDFium's count are refused (400)
before any page is rendered; each page's pixel size at `dpi` is checked against the
megapixel limit, and the selected pages' total against MAX_TOTAL_MEGAPIXELS (2,000 MP:
200 A4 pages at 300 dpi), before any page is rendered. Memory is bounded per page: a page
is rendered in bands of about BAND_PIXELS (4 MP) into a raw file on the job's scratch disk,
which the encoder then reads as it goes; so a 98 MP page costs tens of MB, not ~2 GB.
Progress and cancel come per band. Password-protected
PDFs are refused. Annotations are drawn; no form environment is set up, so no PDF
JavaScript ever runs. PDFium is not thread-safe: one page renders at a time per process.
The result is a DOCUMENT (even for one page), so it does not chain into image
tools in a pipeline.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path

import pyvips
from pydantic import Field

from tools import archive, imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolError, ToolSettings
from tools.fields import ImageFormat, Quality

MAX_PDF_PAGES = 200
MAX_TOTAL_MEGAPIXELS = 2000
BAND_PIXELS = 4_000_000  # pixels rendered at once (12 MB of RGB)
MIN_DPI, MAX_DPI = 36, 600
_PAGES = r"^\s*(all|\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*)\s*$"
# PDFium keeps global state: every call into it goes through this lock.
_PDFIUM = threading.Lock()


class Settings(ToolSettings):
    """Which pages, at what resolution, into which format."""

    pages: str = Field(
        "all", pattern=_PAGES, max_length=200, description='"all" or pages like "1-3,5".'
    )
    format: ImageFormat = Field("png", description="Format of each page image.")
    dpi: int = Field(150, ge=MIN_DPI, le=MAX_DPI, description="Rendering resolution.")
    quality: Quality | None = None


def select_pages(spec: str, count: int) -> list[int]:
    """0-based page indexes for a validated `pages` setting, refusing pages past the end."""
    if spec.strip().lower() == "all":
        return list(range(count))
    chosen: dict[int, None] = {}
    for part in re.sub(r"\s+", "", spec).split(","):
        first, _, last = part.partition("-")
        low, high = int(first), int(last or first)
        if low < 1 or high < low or high > count:
            raise ToolError(
                "PAGE_OUT_OF_RANGE", f"pages {part}: the document has {count} page(s)", 400
            )
        chosen.update(dict.fromkeys(range(low - 1, high)))  # high <= count <= MAX_PDF_PAGES
    return list(chosen)


def _open(source: Source) -> object:
    import pypdfium2 as pdfium  # imported here: only this tool needs it

    try:
        return pdfium.PdfDocument(str(source.path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ToolError("ENCRYPTED_PDF", f"{source.name} is password-protected", 400) from exc
        raise ToolError("CORRUPT_PDF", f"{source.name} could not be read: {exc}", 422) from exc


def _render_pages(
    source: Source, settings: Settings, ctx: Context
) -> Iterator[tuple[int, pyvips.Image]]:
    """Yield (page index, image) for each selected page, under the PDFium lock. Each image
    reads its raw pixels from a scratch file, so it must be saved before the next page."""
    scale = settings.dpi / 72
    with _PDFIUM:
        document = _open(source)
        try:
            count = len(document)  # type: ignore[arg-type]
            if count > MAX_PDF_PAGES:
                raise ToolError(
                    "TOO_MANY_PAGES",
                    f"{source.name} has {count} pages; at most {MAX_PDF_PAGES} are rendered",
                    400,
                )
            chosen = select_pages(settings.pages, count)
            sizes = [_page_size(document, index, scale, ctx) for index in chosen]
            _check_total(sizes)
            for done, (index, size) in enumerate(zip(chosen, sizes, strict=True)):
                page = document[index]  # type: ignore[index]
                path = ctx.scratch_path(f"page-{index + 1}.rgb")
                _render_banded(page, size, path, ctx, (done, len(chosen), index))
                # Mapped, not read: its pages are the page cache's (file-backed, dropped
                # under memory pressure), not the worker's own memory.
                image = pyvips.Image.rawload(str(path), size[0], size[1], 3)
                per_mm = settings.dpi / 25.4
                yield index, image.copy(interpretation="srgb", xres=per_mm, yres=per_mm)
        finally:
            document.close()  # type: ignore[attr-defined]


def _page_size(document: object, index: int, scale: float, ctx: Context) -> tuple[int, int]:
    """The page's pixel size at `scale`, checked against the megapixel limit."""
    import pypdfium2 as pdfium

    try:
        width, height = document[index].get_size()  # type: ignore[index]
    except pdfium.PdfiumError as exc:
        raise ToolError("CORRUPT_PDF", f"page {index + 1} could not be read: {exc}", 422) from exc
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    imaging.check_pixels(*size, ctx.max_megapixels, f"page {index + 1}")
    return size


def _check_total(sizes: list[tuple[int, int]]) -> None:
    total = sum(w * h for w, h in sizes) / 1e6
    if total > MAX_TOTAL_MEGAPIXELS:
        raise ToolError(
            "TOO_MANY_PIXELS",
            f"the selected pages come to {total:,.0f} MP at this dpi; at most "
            f"{MAX_TOTAL_MEGAPIXELS:,} MP are rendered per request (lower dpi or fewer pages)",
            400,
        )


def _render_banded(
    page: object, size: tuple[int, int], path: Path, ctx: Context, where: tuple[int, int, int]
) -> None:
    """Render the page to `path` as raw RGB rows, BAND_PIXELS at a time: PDFium draws the
    whole page offset upwards into a band-high bitmap, which clips it to those rows, so the
    bands join without seams."""
    import numpy as np
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    width, height = size
    done, total, index = where
    rows = max(1, min(height, BAND_PIXELS // width))
    page_handle = page.raw  # type: ignore[attr-defined]
    flags = raw.FPDF_ANNOT | raw.FPDF_REVERSE_BYTE_ORDER  # RGB byte order
    with path.open("wb") as out:
        for top in range(0, height, rows):
            ctx.check_cancelled()
            ctx.progress(
                5 + 85 * (done + top / height) / total,
                f"page {index + 1} ({done + 1}/{total}), row {top}/{height}",
            )
            band = min(rows, height - top)
            bitmap = pdfium.PdfBitmap.new_native(width, band, raw.FPDFBitmap_BGR)
            raw.FPDFBitmap_FillRect(bitmap.raw, 0, 0, width, band, 0xFFFFFFFF)
            # The page at full size, its top `top` rows above the bitmap (clipped).
            raw.FPDF_RenderPageBitmap(bitmap.raw, page_handle, 0, -top, width, height, 0, flags)
            pixels = np.ctypeslib.as_array(bitmap.buffer).reshape(band, bitmap.stride)
            out.write(np.ascontiguousarray(pixels[:, : width * 3]).tobytes())
            bitmap.close()


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Render the selected pages; one page is returned as an image, several as a ZIP."""
    source = inputs[0]
    if source.format != "pdf":
        raise ToolError("NOT_PDF", f"{source.name} is not a PDF (detected: {source.format})", 400)
    fmt = settings.format
    written: list[tuple[str, Path]] = []
    for index, image in _render_pages(source, settings, ctx):
        path = imaging.save(image, imaging.output_path(ctx, fmt), fmt, quality=settings.quality)
        ctx.scratch_path(f"page-{index + 1}.rgb").unlink(missing_ok=True)
        written.append((f"page-{index + 1:03d}{imaging.extension(fmt)}", path))
    engine = f"PDFium ({_pdfium_version()}) + {imaging.engine_name('', fmt)}"
    ctx.progress(95, "packing")
    if len(written) == 1:
        name, path = written[0]
        return Output.file(OutputKind.DOCUMENT, path, name, engine, pages=1)
    zipped = archive.write_zip(ctx, written)
    for _, path in written:
        path.unlink(missing_ok=True)
    return archive.zip_output(zipped, "pages.zip", engine, pages=len(written))


def _pdfium_version() -> str:
    import pypdfium2.version as version

    return f"build {version.PDFIUM_INFO.build}, pypdfium2 {metadata.version('pypdfium2')}"


TOOL = Tool(
    id="pdf-to-image",
    name="PDF to Image",
    category="format",
    description="Render PDF pages (all or a range such as 1-3,5) to images at 36-600 dpi; "
    "several pages come back as a ZIP.",
    settings=Settings,
    run=run,
    output=OutputKind.DOCUMENT,
    inline=False,
)
