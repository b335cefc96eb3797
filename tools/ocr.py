"""OCR: the text in an image (or every page of a PDF / multi-page TIFF), with its boxes.

Tiers:
- `fast`: Tesseract 5 (LSTM) on the CPU, through the `tesseract` program
  (tools/ai/tesseract.py); Latin-script print in the installed languages.
- `balanced`: PP-OCRv6 detection + recognition through rapidocr (tools/ai/ppocr.py).
- `best`: PP-OCRv6 with the line-direction classifier (upside-down lines), pages up to
  4000 px on their longest side (balanced: 2000), and `enhance` on unless set to false.

`language`: "auto" or names joined by "+" (letters, digits and "_"). For fast, the
installed Tesseract languages (`eng`, `deu`...; `en`, `de`... are mapped); for
balanced/best, one of the languages the multilingual PP-OCRv6 models read (`en`, `ch`,
`japan`, `de`...; `eng`, `chi_sim`, `jpn`... are mapped): there it is checked and
recorded, not a switch. A language the tier's engine cannot read is 400.

`enhance` (default: on for best, off otherwise) prepares the page before it is read,
each step only where it helps, and says which ran (`enhance` in the result):
- deskew: the skew angle (within ±10°) is the rotation that makes the ink's horizontal
  projection the sharpest (coarse 0.5° then fine 0.05° steps); at 0.2° or more the
  page is turned back. Boxes are mapped back onto the original image.
- contrast: where the page is dull (the median ink and paper levels, split by Otsu's
  threshold, are under 100 grey levels apart), ink is stretched to black and paper to
  white (light text on dark comes out dark on light), then CLAHE (clip 2, 8x8 tiles).
- upscale: where the median height of the ink's connected components is under 10 px
  (text under about 17 px, 12 pt at 100 dpi), the page is read at 2x (Lanczos) if that
  stays within the pixel limit; boxes are scaled back.
Enhancement works on a grey copy; the output PDF always shows the original page.

Output (`output`): `json` (default): {text, lines: [{text, confidence 0..1, box
[x, y, w, h] in the input's pixels, words: [{text, confidence, box}], page}], pages,
engine, language, enhance}; `text`: a UTF-8 .txt; `hocr`: hOCR (XHTML); `pdf`: a
searchable PDF (tools/ocr_pdf.py: each page image with an invisible text layer). All
come from the same recognition, in original-image pixels. A blank page gives empty text.

Input: any image (first frame; alpha flattened onto white; EXIF orientation applied),
every page of a multi-page TIFF, or every page of a PDF rendered at 300 dpi (PDFium);
at most MAX_PAGES pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyvips
from pydantic import Field

from tools import arrays, colour, imaging, ocr_pdf, pdf_to_image
from tools.ai import ppocr, tesseract
from tools.ai.credit import Run, credit
from tools.base import Context, Output, OutputKind, Source, Tool, ToolError, ToolSettings

MAX_PAGES = 50
PDF_DPI = 300
_SKEW_RANGE = 10.0  # degrees searched either way
_MIN_SKEW = 0.2  # below this a page is left as it is
_SKEW_POINTS = 200_000  # ink pixels the skew search looks at, at most
_DULL_CONTRAST = 100  # grey levels between ink and paper under which a page is dull
_SMALL_TEXT_PX = 10  # median height of the ink's components under which text is small
_LOSSY = frozenset({"jpeg", "webp", "avif", "heif", "pdf"})
_MAX_PAGE_PT = 14400.0  # PDF's page-size limit (200 inches)
# output -> (download name, media type)
_FILES = {
    "text": ("text.txt", "text/plain; charset=utf-8"),
    "hocr": ("text.hocr", "text/vnd.hocr+html; charset=utf-8"),
    "pdf": ("searchable.pdf", "application/pdf"),
}


class Settings(ToolSettings):
    """Engine tier, language, page preparation and what comes back."""

    quality: Literal["fast", "balanced", "best"] = Field(
        "balanced", description="fast (Tesseract), balanced or best (PP-OCRv6)."
    )
    language: str = Field(
        "auto",
        pattern=r"^[A-Za-z0-9_+]+$",
        max_length=64,
        description='"auto", or language names joined by "+" (eng, deu, en, ch, japan...).',
    )
    enhance: bool | None = Field(
        None, description="Deskew, stretch contrast, upscale small text. Default: on for best."
    )
    output: Literal["json", "text", "hocr", "pdf"] = Field(
        "json", description="json, a .txt file, hOCR, or a searchable PDF."
    )


@dataclass
class Prepared:
    """The page as the engine reads it, and how to map its boxes back to the original."""

    pixels: np.ndarray
    size: tuple[int, int]  # the original's (width, height)
    scale: float = 1.0
    inverse: np.ndarray | None = None  # 2x3 affine: deskewed -> original pixels
    applied: list[str] = field(default_factory=list)
    angle: float = 0.0

    def to_original(self, box: Sequence[float]) -> list[int]:
        x, y, w, h = (v / self.scale for v in box)
        corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
        if self.inverse is not None:
            corners = corners @ self.inverse[:, :2].T + self.inverse[:, 2]
        width, height = self.size
        x0, y0 = np.clip(np.floor(corners.min(axis=0)), 0, [width, height])
        x1, y1 = np.clip(np.ceil(corners.max(axis=0)), 0, [width, height])
        return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Read the text of every page; see the module docstring."""
    source = inputs[0]
    enhance = settings.enhance if settings.enhance is not None else settings.quality == "best"
    reader = _Reader(settings, ctx)  # 400/503 here, before anything is decoded
    pages: list[dict[str, Any]] = []
    documents: list[ocr_pdf.Page] = []
    for index, count, rgb, dpi in _pages(source, ctx):
        label = f"page {index + 1}/{count}" if count > 1 else "page"
        ctx.progress(5 + 90 * index / count, f"{label}: reading ({settings.quality})")
        ctx.check_cancelled()
        prepared = prepare(rgb, enhance, ctx.max_megapixels)
        lines = [_to_original(line, prepared) for line in reader.read(prepared, dpi)]
        pages.append(_page_json(index, rgb, dpi, lines, prepared))
        if settings.output in ("pdf", "hocr"):
            lossy, pixels = source.format in _LOSSY, settings.output == "pdf"
            image = ocr_pdf.page_image(rgb, lossy=lossy, pixels=pixels)
            documents.append(ocr_pdf.Page(image, dpi, lines))
    ctx.progress(96, "writing")
    output = _output(settings, reader, pages, documents, source, ctx)
    output = credit(output, [*reader.runs, *_classic_runs(pages)])
    if output.data is not None:
        output.data["engine"] = output.engine  # every engine and model that ran
    return output


class _Reader:
    """The tier's engine, checked once (language, engine, models) before any page."""

    def __init__(self, settings: Settings, ctx: Context) -> None:
        self.quality = settings.quality
        self.ctx = ctx
        self.runs: list[Run | dict[str, Any]] = []
        if self.quality == "fast":
            self.version = tesseract.require_engine()
            self.languages = tesseract.resolve_languages(settings.language)
            self.language = "+".join(self.languages)
        else:
            self.language = ppocr.resolve_language(settings.language)
            ppocr.sessions(ctx, ppocr.PROFILES[self.quality].use_cls)  # 503 before any work

    def read(self, page: Prepared, dpi: float) -> list[dict[str, Any]]:
        pixels = page.pixels
        if self.quality != "fast":
            cv2 = arrays.cv2()
            code = cv2.COLOR_GRAY2BGR if pixels.ndim == 2 else cv2.COLOR_RGB2BGR
            lines, runs = ppocr.read(self.ctx, cv2.cvtColor(pixels, code), self.quality)
            self.runs = self.runs or list(runs)
            return lines
        path = imaging.output_path(self.ctx, "png")
        try:
            arrays.from_array(pixels, "b-w" if pixels.ndim == 2 else "srgb").pngsave(
                str(path), compression=1
            )
            scaled_dpi = round(dpi * page.scale) if dpi >= 100 else None
            megapixels = pixels.shape[0] * pixels.shape[1] / 1e6
            lines = tesseract.read(self.ctx, path, self.languages, scaled_dpi, megapixels)
        finally:
            path.unlink(missing_ok=True)
        self.runs = self.runs or list(tesseract.runs(self.languages, self.version))
        return lines

    @property
    def engine_name(self) -> str:
        if self.quality == "fast":
            return f"Tesseract {self.version} (LSTM)"
        return f"PP-OCRv6 via rapidocr ({self.quality})"


# --- pages ---------------------------------------------------------------------------------


def _pages(source: Source, ctx: Context) -> Iterator[tuple[int, int, np.ndarray, float]]:
    """(index, count, RGB uint8 pixels, dpi) of each page to read."""
    if source.format == "pdf":
        yield from _pdf_pages(source, ctx)
        return
    head = imaging.probe(source, ctx.max_megapixels) if source.format == "tiff" else None
    count = int(head.get("n-pages")) if head and head.get_typeof("n-pages") else 1
    if count > MAX_PAGES:
        raise _too_many(source, count)
    for index in range(count):
        image = imaging.load(source, ctx.max_megapixels, page=index)
        yield index, count, _rgb(image), _dpi(image)


def _pdf_pages(source: Source, ctx: Context) -> Iterator[tuple[int, int, np.ndarray, float]]:
    """Each page rendered at PDF_DPI on white; PDFium is held only while it renders."""
    import pypdfium2 as pdfium

    scale = PDF_DPI / 72
    with pdf_to_image._PDFIUM:  # the process's one PDFium lock
        document: Any = pdf_to_image._open(source)
        count = len(document)
        document.close()
    if count > MAX_PAGES:
        raise _too_many(source, count)
    for index in range(count):
        ctx.check_cancelled()
        with pdf_to_image._PDFIUM:
            document = pdf_to_image._open(source)
            try:
                page = document[index]
                width, height = page.get_size()
                size = (max(1, round(width * scale)), max(1, round(height * scale)))
                imaging.check_pixels(*size, ctx.max_megapixels, f"page {index + 1}")
                pil = page.render(scale=scale, fill_color=(255, 255, 255, 255)).to_pil()
            except pdfium.PdfiumError as exc:
                raise ToolError(
                    "CORRUPT_PDF", f"{source.name}: page {index + 1}: {exc}", 422
                ) from exc
            finally:
                document.close()
        yield index, count, np.asarray(pil.convert("RGB")), float(PDF_DPI)


def _too_many(source: Source, count: int) -> ToolError:
    return ToolError(
        "TOO_MANY_PAGES", f"{source.name} has {count} pages; at most {MAX_PAGES} are read", 400
    )


def _rgb(image: pyvips.Image) -> np.ndarray:
    """8-bit sRGB pixels, transparency flattened onto white."""
    image = colour.to_rgb(image)
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    return arrays.to_array(image.cast("uchar"))


def _dpi(image: pyvips.Image) -> float:
    """The image's resolution in whole dpi (files store pixels per metre or mm: 300 dpi
    reads 299.9994; libvips says 72 when the file says nothing), raised where needed so
    the page stays within PDF's 200-inch limit."""
    dpi = float(round(image.xres * 25.4)) if image.xres > 0 else 72.0
    return max(dpi, max(image.width, image.height) * 72 / _MAX_PAGE_PT, 1.0)


# --- enhancement ---------------------------------------------------------------------------


def prepare(rgb: np.ndarray, enhance: bool, max_megapixels: int) -> Prepared:
    """The page to read: as it is, or enhanced (see the module docstring)."""
    height, width = rgb.shape[:2]
    if not enhance:
        return Prepared(rgb, (width, height))
    cv2 = arrays.cv2()
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    page = Prepared(grey, (width, height))
    angle = skew_angle(grey)
    if abs(angle) >= _MIN_SKEW:
        _deskew(page, angle)
    levels = ink_and_paper(page.pixels)
    if levels is not None and 1 <= abs(levels[1] - levels[0]) < _DULL_CONTRAST:
        ink, paper = levels
        # ink -> 0, paper -> 255 (so light text on a dark ground comes out dark on light)
        stretched = (page.pixels.astype(np.float32) - ink) * (255 / (paper - ink))
        clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        page.pixels = clahe.apply(np.clip(stretched, 0, 255).astype(np.uint8))
        page.applied.append("contrast")
    area = page.pixels.shape[0] * page.pixels.shape[1]
    if text_height(page.pixels) < _SMALL_TEXT_PX and 4 * area <= max_megapixels * 1e6:
        h, w = page.pixels.shape
        page.pixels = cv2.resize(page.pixels, (2 * w, 2 * h), interpolation=cv2.INTER_LANCZOS4)
        page.scale = 2.0
        page.applied.append("upscale")
    return page


def _ink(grey: np.ndarray) -> np.ndarray:
    """Text pixels (255) by Otsu's threshold, on whichever side of it is the minority."""
    cv2 = arrays.cv2()
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return ink if np.count_nonzero(ink) <= ink.size / 2 else 255 - ink


def ink_and_paper(grey: np.ndarray) -> tuple[float, float] | None:
    """The median grey level of the ink and of the paper (Otsu's split, the ink being the
    smaller side); None for a page of one level."""
    if int(grey.min()) == int(grey.max()):
        return None
    ink = _ink(grey) > 0
    return float(np.median(grey[ink])), float(np.median(grey[~ink]))


def skew_angle(grey: np.ndarray) -> float:
    """Degrees to turn the page by (cv2's sense, counter-clockwise) to level its lines;
    0 when there is too little ink to tell."""
    cv2 = arrays.cv2()
    factor = min(1.0, 1000 / max(grey.shape))
    if factor < 1:
        size = (max(1, round(grey.shape[1] * factor)), max(1, round(grey.shape[0] * factor)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(_ink(grey))
    if len(xs) < 50:
        return 0.0
    step = max(1, len(xs) // _SKEW_POINTS)  # enough points to see the lines, in bounded time
    ys, xs = ys[::step], xs[::step]
    xs = xs - grey.shape[1] / 2
    ys = ys - grey.shape[0] / 2

    def sharpness(degrees: float) -> float:
        theta = np.deg2rad(degrees)
        rows = ys * np.cos(theta) - xs * np.sin(theta)
        counts = np.bincount((rows - rows.min()).astype(np.int64))
        return float(np.square(counts, dtype=np.float64).sum())

    coarse = max(np.arange(-_SKEW_RANGE, _SKEW_RANGE + 0.01, 0.5), key=sharpness)
    fine = max(np.arange(coarse - 0.5, coarse + 0.501, 0.05), key=sharpness)
    return round(float(fine), 2)


def _deskew(page: Prepared, angle: float) -> None:
    """Turn the page by `angle` degrees on a canvas that holds all of it."""
    cv2 = arrays.cv2()
    grey = page.pixels
    h, w = grey.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(np.ceil(w * cos + h * sin)), int(np.ceil(w * sin + h * cos))
    matrix[0, 2] += (new_w - w) / 2
    matrix[1, 2] += (new_h - h) / 2
    background = int(np.median(grey))
    page.pixels = cv2.warpAffine(
        grey, matrix, (new_w, new_h), flags=cv2.INTER_CUBIC, borderValue=background
    )
    page.inverse = cv2.invertAffineTransform(matrix)
    page.angle = angle
    page.applied.append("deskew")


def text_height(grey: np.ndarray) -> float:
    """The median height of the ink's connected components (letters, mostly), in px;
    infinity when there is no ink."""
    cv2 = arrays.cv2()
    count, _, stats, _ = cv2.connectedComponentsWithStats(_ink(grey), connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    letters = heights[(heights >= 3) & (heights < grey.shape[0] / 4) & (widths < 4 * heights)]
    return float(np.median(letters)) if count > 1 and letters.size >= 5 else float("inf")


# --- results -------------------------------------------------------------------------------


def _to_original(line: dict[str, Any], page: Prepared) -> dict[str, Any]:
    """A line (and its words) with boxes in the original image's pixels."""
    words = [{**w, "box": page.to_original(w["box"])} for w in line.get("words") or []]
    return {**line, "box": page.to_original(line["box"]), "words": words}


def _page_json(
    index: int, rgb: np.ndarray, dpi: float, lines: list[dict[str, Any]], page: Prepared
) -> dict[str, Any]:
    for line in lines:
        line["page"] = index + 1
    return {
        "page": index + 1,
        "width": rgb.shape[1],
        "height": rgb.shape[0],
        "dpi": round(dpi, 2),
        "text": "\n".join(line["text"] for line in lines),
        "lines": lines,
        "enhance": page.applied,
        "deskewAngle": page.angle,
    }


def _output(
    settings: Settings,
    reader: _Reader,
    pages: list[dict[str, Any]],
    documents: list[ocr_pdf.Page],
    source: Source,
    ctx: Context,
) -> Output:
    """The JSON, or the file `output` asks for."""
    text = "\n\n".join(page["text"] for page in pages)
    applied = list(dict.fromkeys(step for page in pages for step in page["enhance"]))
    summary = {"quality": settings.quality, "language": reader.language, "enhance": applied}
    count = sum(len(page["lines"]) for page in pages)
    extras = {**summary, "pages": len(pages), "lines": count}  # small: sent as a header
    if settings.output == "json":
        lines = [line for page in pages for line in page.pop("lines")]
        data = {"text": text, "lines": lines, "pages": pages, "engine": "", **summary}
        return Output(OutputKind.JSON, data=data, media_type="application/json", extras=extras)
    name, media = _FILES[settings.output]
    path = ctx.scratch_path(f"out-{uuid.uuid4().hex[:12]}-{name}")
    if settings.output == "text":
        path.write_text(text + "\n" if text else "", encoding="utf-8")
    elif settings.output == "hocr":
        system = f"Pixelsmith ocr ({reader.engine_name})"
        path.write_text(ocr_pdf.hocr(documents, system, source.name), encoding="utf-8")
    else:
        ocr_pdf.write_pdf(path, documents)
    return Output(OutputKind.DOCUMENT, path=path, filename=name, media_type=media, extras=extras)


def _classic_runs(pages: list[dict[str, Any]]) -> list[Run]:
    """The OpenCV steps `enhance` ran, credited as what they are."""
    applied = {step for page in pages for step in page["enhance"]}
    if not applied:
        return []
    names = {
        "deskew": "projection-profile deskew",
        "contrast": "contrast stretch + CLAHE",
        "upscale": "2x Lanczos upscale",
    }
    steps = " + ".join(names[s] for s in names if s in applied)
    return [Run(f"OpenCV {arrays.cv2().__version__} {steps}")]


TOOL = Tool(
    id="ocr",
    name="OCR",
    category="ai",
    description="Read the text of an image or PDF: Tesseract (fast) or PP-OCRv6 (balanced, "
    "best); JSON with lines, words, boxes and confidences, or text, hOCR, searchable PDF.",
    settings=Settings,
    run=run,
    output=OutputKind.JSON,
    models=(ppocr.DET, ppocr.REC, ppocr.CLS, "tesseract-eng"),
    # Tesseract alone, or PP-OCR's detector and recogniser (best also needs the classifier).
    needs=((ppocr.DET, "tesseract-eng"), (ppocr.REC, "tesseract-eng")),
    inline=False,
)
