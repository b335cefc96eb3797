"""ocr: every tier reads a rendered page exactly, boxes land where the text was drawn,
enhance deskews / upscales / stretches, PDF pages are all read, and the documents
(searchable PDF, hOCR, text) carry the same text. Real models, real Tesseract."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.shipped_models import shipped_models_dir
from tools import imaging, ocr, ocr_pdf, runner
from tools.ai import engines, install
from tools.ai.catalog import catalog
from tools.base import Cancelled, Context, Output, OutputKind, Source, ToolError

FONT = Path(ocr.__file__).parent / "fonts" / "DejaVuSans.ttf"
LINES = (
    "The quick brown fox jumps over the lazy dog.",
    "Pixelsmith reads 1234 words per minute!",
    "Invoice number 2024-0917 total 318.50 EUR",
)
SIZE = (1200, 850)  # about 1 MP
BOX_TOLERANCE = 8  # px: PP-OCR's boxes are padded by its unclip ratio, Tesseract's are tight


Box = tuple[float, ...]  # x0, y0, x1, y1


@dataclass
class Page:
    """A rendered page: its file, and the box [x0, y0, x1, y1] each line was drawn in."""

    path: Path
    boxes: list[Box]


def render_page(
    path: Path,
    lines: tuple[str, ...] = LINES,
    *,
    font_px: int = 28,
    size: tuple[int, int] = SIZE,
    angle: float = 0.0,
    ink: tuple[int, ...] = (0, 0, 0),
    paper: tuple[int, ...] = (255, 255, 255),
    dpi: int | None = None,
) -> Page:
    """Lines of DejaVu Sans on a page; `angle` turns the page counter-clockwise (degrees)
    about its centre, and the boxes with it."""
    font = ImageFont.truetype(str(FONT), font_px)
    mode = "RGBA" if len(paper) == 4 else "RGB"
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    margin, step = font_px * 3, font_px * 2.5
    boxes: list[Box] = []
    for index, text in enumerate(lines):
        origin = (margin, margin + index * step)
        draw.text(origin, text, font=font, fill=ink)
        boxes.append(draw.textbbox(origin, text, font=font))
    if angle:
        fill = paper if mode == "RGB" else None
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=fill)
        boxes = [_turned(box, angle, size) for box in boxes]
    image.save(path, dpi=(dpi, dpi)) if dpi else image.save(path)
    return Page(path, boxes)


def _turned(box: Box, angle: float, size: tuple[int, int]) -> Box:
    """The axis-aligned box around `box` turned by `angle` about the page centre."""
    cx, cy = size[0] / 2, size[1] / 2
    t = math.radians(angle)
    x0, y0, x1, y1 = box
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    turned = [
        (
            cx + (x - cx) * math.cos(t) + (y - cy) * math.sin(t),
            cy - (x - cx) * math.sin(t) + (y - cy) * math.cos(t),
        )
        for x, y in corners
    ]
    xs, ys = zip(*turned, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def assert_boxes_match(lines: list[dict[str, Any]], drawn: list[Box]) -> None:
    assert len(lines) == len(drawn)
    for line, (x0, y0, x1, y1) in zip(lines, drawn, strict=True):
        x, y, w, h = line["box"]
        edges = np.array([x, y, x + w, y + h]) - np.array([x0, y0, x1, y1])
        assert np.abs(edges).max() <= BOX_TOLERANCE, (line["text"], line["box"], (x0, y0, x1, y1))


def read(source: Source, settings: dict[str, Any], ctx: Context) -> Output:
    return runner.execute(ocr.TOOL, [source], runner.validate_settings(ocr.TOOL, settings), ctx)


def data_of(output: Output) -> dict[str, Any]:
    assert output.data is not None
    return output.data


def path_of(output: Output) -> Path:
    assert output.path is not None
    return output.path


@pytest.fixture(scope="module")
def models_ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    """A context with the shipped models installed (module-wide: the sessions stay warm)."""
    return Context(scratch_dir=tmp_path_factory.mktemp("scratch"), model_dir=shipped_models_dir())


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Page:
    return render_page(tmp_path_factory.mktemp("page") / "page.png")


@pytest.fixture(scope="module")
def results(page: Page, models_ctx: Context) -> dict[str, Output]:
    """Each tier's JSON on the page, read once for the module."""
    source = runner_source(page.path)
    return {tier: read(source, {"quality": tier}, models_ctx) for tier in ocr_tiers()}


def ocr_tiers() -> tuple[str, ...]:
    return ("fast", "balanced", "best")


def runner_source(path: Path) -> Source:
    return imaging.open_source(path, path.name)


# --- reading -------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ocr_tiers())
def test_every_tier_reads_the_page_exactly(results: dict[str, Output], tier: str) -> None:
    output = results[tier]
    assert output.kind is OutputKind.JSON
    assert normalised(data_of(output)["text"]) == normalised(" ".join(LINES))
    assert [line["text"] for line in data_of(output)["lines"]] == list(LINES)
    assert all(0.8 < line["confidence"] <= 1 for line in data_of(output)["lines"])
    assert data_of(output)["quality"] == tier and data_of(output)["pages"][0]["page"] == 1


@pytest.mark.parametrize("tier", ocr_tiers())
def test_boxes_are_where_the_text_was_drawn(results, page: Page, tier: str) -> None:
    lines = data_of(results[tier])["lines"]
    assert_boxes_match(lines, page.boxes)
    for line in lines:
        words = line["words"]
        assert " ".join(w["text"] for w in words) == line["text"]
        lefts = [w["box"][0] for w in words]
        assert lefts == sorted(lefts)
        x, y, w, h = line["box"]
        for word in words:
            wx, wy, ww, wh = word["box"]
            assert x - 2 <= wx and wx + ww <= x + w + 2 and y - 2 <= wy and wy + wh <= y + h + 2


def test_each_tier_names_its_engine_models_and_their_sha256(results) -> None:
    specs = catalog()
    fast, balanced, best = results["fast"], results["balanced"], results["best"]
    tessdata = install.verified_sha256(Path("/usr/share/tesseract-ocr/5/tessdata/eng.traineddata"))
    assert fast.engine.startswith("Tesseract 5") and "(LSTM)" in fast.engine
    assert (fast.model, fast.model_sha256, fast.device) == ("tesseract-eng", tessdata, "cpu")
    assert balanced.model == "ppocr-v6-det, ppocr-v6-rec"
    assert balanced.model_sha256 == ", ".join(
        specs[m].files[0].sha256 or "" for m in ("ppocr-v6-det", "ppocr-v6-rec")
    )
    assert "rapidocr 3.10" in balanced.engine and "onnxruntime" in balanced.engine
    assert best.model == "ppocr-v6-det, ppocr-mobile-v2-cls, ppocr-v6-rec"
    assert data_of(balanced)["engine"] == balanced.engine
    assert {run["model"] for run in best.extras["runs"]} == set(best.model.split(", "))


def test_best_enhances_by_default_and_balanced_does_not(tmp_path, models_ctx) -> None:
    small = render_page(tmp_path / "small.png", font_px=14, size=(500, 200))
    best = read(runner_source(small.path), {"quality": "best"}, models_ctx)
    balanced = read(runner_source(small.path), {"quality": "balanced"}, models_ctx)
    assert (data_of(best)["enhance"], data_of(balanced)["enhance"]) == (["upscale"], [])
    assert "2x Lanczos upscale" in best.engine and "OpenCV" not in balanced.engine
    for output in (best, balanced):
        assert [line["text"] for line in data_of(output)["lines"]] == list(LINES)
        assert_boxes_match(data_of(output)["lines"], small.boxes)


@pytest.mark.parametrize("tier", ["fast", "balanced"])
def test_a_skewed_page_is_deskewed_and_still_read(tmp_path, models_ctx, tier) -> None:
    skewed = render_page(tmp_path / "skewed.png", angle=3)
    output = read(runner_source(skewed.path), {"quality": tier, "enhance": True}, models_ctx)
    assert "deskew" in data_of(output)["enhance"]
    assert data_of(output)["pages"][0]["deskewAngle"] == pytest.approx(-3, abs=0.2)
    assert [line["text"] for line in data_of(output)["lines"]] == list(LINES)
    assert_boxes_match(data_of(output)["lines"], skewed.boxes)  # mapped back onto the skewed page
    assert "projection-profile deskew" in output.engine


def test_small_text_is_read_at_twice_the_size_with_boxes_in_the_original(
    tmp_path, models_ctx
) -> None:
    small = render_page(tmp_path / "small.png", font_px=14, size=(500, 200))
    output = read(runner_source(small.path), {"quality": "fast", "enhance": True}, models_ctx)
    assert data_of(output)["enhance"] == ["upscale"]
    assert [line["text"] for line in data_of(output)["lines"]] == list(LINES)
    assert_boxes_match(data_of(output)["lines"], small.boxes)


@pytest.mark.parametrize(
    ("ink", "paper"), [((140, 140, 140), (190, 190, 190)), ((200, 200, 200), (120, 120, 120))]
)
def test_a_dull_page_is_stretched(tmp_path, models_ctx, ink, paper) -> None:
    dull = render_page(tmp_path / "dull.png", ink=ink, paper=paper)
    output = read(runner_source(dull.path), {"quality": "fast", "enhance": True}, models_ctx)
    assert data_of(output)["enhance"] == ["contrast"]
    assert [line["text"] for line in data_of(output)["lines"]] == list(LINES)


def test_transparent_paper_is_read_as_white(tmp_path, models_ctx) -> None:
    clear = render_page(tmp_path / "clear.png", ink=(0, 0, 0, 255), paper=(0, 0, 0, 0))
    output = read(runner_source(clear.path), {"quality": "fast"}, models_ctx)
    assert [line["text"] for line in data_of(output)["lines"]] == list(LINES)


@pytest.mark.parametrize("tier", ["fast", "balanced"])
def test_a_blank_image_is_empty_text_not_an_error(solid_image, models_ctx, tier) -> None:
    output = read(solid_image(640, 480, (255, 255, 255)), {"quality": tier}, models_ctx)
    assert data_of(output)["text"] == "" and data_of(output)["lines"] == []


def test_every_page_of_a_pdf_is_read_with_progress(tmp_path, models_ctx) -> None:
    first = render_page(tmp_path / "one.png", LINES[:2])
    second = render_page(tmp_path / "two.png", LINES[2:])
    pdf = tmp_path / "scan.pdf"
    images = [Image.open(first.path), Image.open(second.path)]
    images[0].save(pdf, "PDF", save_all=True, append_images=images[1:], resolution=300.0)
    seen: list[str] = []
    ctx = models_ctx.derive(progress=lambda _percent, message="": seen.append(message))
    output = read(runner_source(pdf), {"quality": "fast"}, ctx)
    assert [page["text"] for page in data_of(output)["pages"]] == ["\n".join(LINES[:2]), LINES[2]]
    assert [line["page"] for line in data_of(output)["lines"]] == [1, 1, 2]
    assert data_of(output)["pages"][0]["dpi"] == 300
    rendered = (data_of(output)["pages"][0]["width"], data_of(output)["pages"][0]["height"])
    assert rendered == pytest.approx(SIZE, abs=1)  # Pillow rounds the page size in points
    assert_boxes_match(data_of(output)["lines"][:2], first.boxes)
    assert any("page 1/2" in m for m in seen) and any("page 2/2" in m for m in seen)


def test_every_page_of_a_tiff_is_read(tmp_path, models_ctx) -> None:
    pages = [render_page(tmp_path / f"{i}.png", (text,)) for i, text in enumerate(LINES[:2])]
    tiff = tmp_path / "pages.tiff"
    images = [Image.open(p.path) for p in pages]
    images[0].save(tiff, save_all=True, append_images=images[1:])
    output = read(runner_source(tiff), {"quality": "fast", "output": "text"}, models_ctx)
    assert path_of(output).read_text() == f"{LINES[0]}\n\n{LINES[1]}\n"


# --- documents -----------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["fast", "balanced"])
def test_the_searchable_pdf_is_the_image_with_its_text(tmp_path, models_ctx, tier) -> None:
    scan = render_page(tmp_path / "scan.png", dpi=144)
    output = read(runner_source(scan.path), {"quality": tier, "output": "pdf"}, models_ctx)
    assert (output.kind, output.media_type) == (OutputKind.DOCUMENT, "application/pdf")
    assert output.filename.endswith(".pdf")
    document = pdfium.PdfDocument(str(path_of(output)))
    assert len(document) == 1
    page = document[0]
    assert page.get_size() == pytest.approx((SIZE[0] / 2, SIZE[1] / 2))
    textpage = page.get_textpage()
    assert normalised(textpage.get_text_range()) == normalised(" ".join(LINES))
    # The invisible text lies over the drawn text: its first and last characters' boxes
    # (loose: advance width and font height; in points from the bottom left) span the
    # first line's drawn box.
    x0, y0, x1, y1 = (v / 2 for v in scan.boxes[0])
    left, _, _, top = textpage.get_charbox(0, loose=True)
    _, bottom, right, _ = textpage.get_charbox(len(LINES[0]) - 1, loose=True)
    height = SIZE[1] / 2  # 144 dpi: 2 px a point
    assert left == pytest.approx(x0, abs=5) and right == pytest.approx(x1, abs=5)
    assert height - top == pytest.approx(y0, abs=6) and height - bottom == pytest.approx(y1, abs=6)
    # What shows is the page itself (the text is invisible).
    shown = np.asarray(page.render(scale=2).to_pil().convert("L"), dtype=np.float32)
    original = np.asarray(Image.open(scan.path).convert("L"), dtype=np.float32)
    assert shown.shape == original.shape and np.abs(shown - original).mean() < 1.0


def test_the_text_layer_carries_any_script(tmp_path: Path) -> None:
    # PP-OCR reads Chinese and Japanese too: every character must come back out as itself,
    # beyond the Basic Multilingual Plane as well; a page without text is still a page.
    text = "漢字かな Grüße 𝄞 1/2"
    white = np.full((100, 400, 3), 255, np.uint8)
    image = ocr_pdf.page_image(white, lossy=False)
    line = {"text": text, "confidence": 1.0, "box": [10, 20, 300, 30], "words": []}
    pages = [ocr_pdf.Page(image, 72, []), ocr_pdf.Page(image, 72, [line])]
    ocr_pdf.write_pdf(tmp_path / "unicode.pdf", pages)
    document = pdfium.PdfDocument(str(tmp_path / "unicode.pdf"))
    assert document[0].get_textpage().get_text_range() == ""
    assert document[1].get_textpage().get_text_range() == text


def test_the_hocr_has_pages_lines_and_words_with_boxes(page: Page, models_ctx) -> None:
    output = read(runner_source(page.path), {"quality": "fast", "output": "hocr"}, models_ctx)
    assert output.filename.endswith(".hocr")
    root = ET.fromstring(path_of(output).read_bytes())  # noqa: S314 - our own output
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    pages = root.findall(".//h:div[@class='ocr_page']", ns)
    lines = root.findall(".//h:span[@class='ocr_line']", ns)
    words = root.findall(".//h:span[@class='ocrx_word']", ns)
    assert len(pages) == 1 and "bbox 0 0 1200 850" in pages[0].get("title", "")
    assert [" ".join(w.text or "" for w in line) for line in lines] == list(LINES)
    assert len(words) == sum(len(text.split()) for text in LINES)
    first = re.match(r"bbox (\d+) (\d+) (\d+) (\d+); x_wconf (\d+)", words[0].get("title", ""))
    assert first is not None and int(first.group(5)) > 80
    x0, y0, _, _ = page.boxes[0]
    assert abs(int(first.group(1)) - x0) <= BOX_TOLERANCE
    assert abs(int(first.group(2)) - y0) <= BOX_TOLERANCE


def test_text_output_is_a_plain_text_file(page: Page, models_ctx) -> None:
    output = read(runner_source(page.path), {"quality": "fast", "output": "text"}, models_ctx)
    assert output.media_type.startswith("text/plain") and output.filename.endswith(".txt")
    assert path_of(output).read_text(encoding="utf-8") == "\n".join(LINES) + "\n"


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"quality": "fast", "language": "deu"}, "eng"),  # installed here: eng only
        ({"quality": "balanced", "language": "klingon"}, "japan"),
        ({"quality": "best", "language": "en+ru"}, "chinese_cht"),
    ],
)
def test_a_language_the_engine_cannot_read_is_400_with_the_list(
    page: Page, models_ctx, raw, named
) -> None:
    with pytest.raises(ToolError) as caught:
        read(runner_source(page.path), raw, models_ctx)
    assert (caught.value.code, caught.value.status) == ("UNSUPPORTED_LANGUAGE", 400)
    assert named in caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        {"language": "eng; rm -rf /"},
        {"language": "../eng"},
        {"language": "x" * 65},
        {"quality": "ultra"},
        {"output": "docx"},
        {"enhance": "sometimes"},
    ],
)
def test_bad_settings_are_400(raw: dict[str, Any]) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(ocr.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_language_names_of_the_other_engine_are_understood(page: Page, models_ctx) -> None:
    fast = read(runner_source(page.path), {"quality": "fast", "language": "en"}, models_ctx)
    best = read(runner_source(page.path), {"quality": "balanced", "language": "eng"}, models_ctx)
    assert (data_of(fast)["language"], data_of(best)["language"]) == ("eng", "en")


def test_missing_models_are_503_naming_the_model(page: Page, tmp_path) -> None:
    ctx = Context(scratch_dir=tmp_path / "scratch", model_dir=tmp_path / "no-models")
    with pytest.raises(ToolError) as caught:
        read(runner_source(page.path), {"quality": "balanced"}, ctx)
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "ppocr-v6-det" in caught.value.message


def test_without_tesseract_fast_is_503_with_the_fix(page: Page, models_ctx, monkeypatch) -> None:
    missing = engines.EngineStatus(
        "tesseract", False, None, "tesseract is not on PATH", engines.TESSERACT_FIX
    )
    monkeypatch.setattr(engines, "check", lambda name: missing)
    with pytest.raises(ToolError) as caught:
        read(runner_source(page.path), {"quality": "fast"}, models_ctx)
    assert (caught.value.code, caught.value.status) == ("ENGINE_UNAVAILABLE", 503)
    assert "apt-get install tesseract-ocr" in caught.value.message


def test_a_cancelled_job_stops(page: Page, models_ctx) -> None:
    ctx = models_ctx.derive(is_cancelled=lambda: True)
    with pytest.raises(Cancelled):
        ocr.run([runner_source(page.path)], ocr.Settings.model_validate({"quality": "fast"}), ctx)


def test_a_truncated_image_is_422(truncated_jpeg, models_ctx) -> None:
    with pytest.raises(ToolError) as caught:
        read(truncated_jpeg, {"quality": "fast"}, models_ctx)
    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)


def test_pdf_page_images_are_lossless_for_lossless_sources(page: Page, models_ctx) -> None:
    import pikepdf

    output = read(runner_source(page.path), {"quality": "fast", "output": "pdf"}, models_ctx)
    with pikepdf.open(path_of(output)) as pdf:
        image = pdf.pages[0].Resources.XObject.Im0
        assert image.Filter == pikepdf.Name.FlateDecode
        assert image.ColorSpace == pikepdf.Name.DeviceGray  # black text on white: grey
        pixels = np.frombuffer(image.read_bytes(), np.uint8).reshape(SIZE[1], SIZE[0])
    assert np.array_equal(pixels, np.asarray(Image.open(page.path).convert("L")))
