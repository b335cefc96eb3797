"""pdf-to-image: PDFium renders pages; bounded page count, dpi and pixels."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.documents import pdf_pages, pdf_with_pages
from tools import imaging
from tools.base import ToolError

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


@pytest.fixture
def pdf_file(tmp_path: Path, make_source):
    def make(data: bytes, name: str = "doc.pdf"):
        path = tmp_path / name
        path.write_bytes(data)
        return make_source(path)

    return make


def _members(path: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: np.asarray(Image.open(io.BytesIO(archive.read(name))).convert("RGB"))
            for name in archive.namelist()
        }


def test_it_renders_every_page_into_a_zip(pdf_file, run_tool) -> None:
    output = run_tool("pdf-to-image", pdf_file(pdf_pages([RED, GREEN, BLUE])), {"dpi": 144})

    assert output.filename == "pages.zip" and output.extras["pages"] == 3
    pages = _members(output.path)
    assert sorted(pages) == ["page-001.png", "page-002.png", "page-003.png"]
    for name, colour in zip(sorted(pages), (RED, GREEN, BLUE), strict=True):
        assert pages[name].shape == (144, 288, 3)  # 144x72 pt at 144 dpi
        assert np.abs(pages[name][72, 144].astype(int) - colour).max() <= 2
    assert "PDFium" in output.engine and "pypdfium2" in output.engine


def test_a_range_picks_pages_in_order(pdf_file, run_tool) -> None:
    source = pdf_file(pdf_pages([RED, GREEN, BLUE, RED]))
    output = run_tool("pdf-to-image", source, {"pages": "3, 1-2", "format": "jpeg"})
    assert sorted(_members(output.path)) == ["page-001.jpg", "page-002.jpg", "page-003.jpg"]


def test_one_page_comes_back_as_the_image(pdf_file, run_tool, img) -> None:
    source = pdf_file(pdf_pages([RED, BLUE]))
    output = run_tool("pdf-to-image", source, {"pages": "2", "format": "webp", "dpi": 72})

    assert imaging.sniff(output.path) == "webp" and output.media_type == "image/webp"
    pixels = img.decode(output.path)
    assert pixels.shape[:2] == (72, 144)
    assert np.abs(pixels[36, 72, :3] - BLUE).max() < 8


def test_a_10000_page_pdf_is_refused(pdf_file, run_tool) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("pdf-to-image", pdf_file(pdf_with_pages(10_000)), {"pages": "1"})
    assert (caught.value.status, caught.value.code) == (400, "TOO_MANY_PAGES")


def test_a_truncated_pdf_is_422(pdf_file, run_tool) -> None:
    data = pdf_pages([RED, GREEN])
    with pytest.raises(ToolError) as caught:
        run_tool("pdf-to-image", pdf_file(data[: len(data) // 2]), {})
    assert (caught.value.status, caught.value.code) == (422, "CORRUPT_PDF")


def test_pages_past_the_end_and_huge_pages_are_refused(pdf_file, run_tool, ctx) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("pdf-to-image", pdf_file(pdf_pages([RED, GREEN])), {"pages": "2-5"})
    assert caught.value.code == "PAGE_OUT_OF_RANGE"
    ctx.max_megapixels = 1
    poster = pdf_file(pdf_pages([RED], size=(2000, 2000)))
    with pytest.raises(ToolError) as caught:
        run_tool("pdf-to-image", poster, {"dpi": 600})
    assert caught.value.code == "IMAGE_TOO_LARGE"


@pytest.mark.parametrize("bad", [{"dpi": 35}, {"dpi": 601}, {"pages": "1-"}, {"pages": "x"}])
def test_out_of_range_settings_are_400(pdf_file, run_tool, bad) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("pdf-to-image", pdf_file(pdf_pages([RED])), bad)
    assert caught.value.code == "INVALID_SETTINGS"


def test_a_photo_is_not_a_pdf_and_image_tools_refuse_pdfs(photo, pdf_file, run_tool) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("pdf-to-image", photo, {})
    assert caught.value.code == "NOT_PDF"
    with pytest.raises(ToolError) as caught:
        run_tool("resize", pdf_file(pdf_pages([RED])), {"width": 10})
    assert (caught.value.status, caught.value.code) == (400, "UNSUPPORTED_FORMAT")


def test_pages_rendered_in_bands_match_a_whole_page_render(pdf_file, run_tool, monkeypatch) -> None:
    """Banding bounds memory; the bands must join exactly (no seam, no shifted row)."""
    import pypdfium2 as pdfium

    from tools import pdf_to_image

    rows = np.linspace(0, 255, 60, dtype=np.uint8)[:, None, None]  # every row differs
    stripes = np.broadcast_to(rows, (60, 90, 3)).copy()
    stripes[:, ::9, 2] = 255 - stripes[:, ::9, 2]  # and columns too
    buffer = io.BytesIO()
    Image.fromarray(stripes).save(buffer, "PDF", resolution=72.0)
    data = buffer.getvalue()
    doc = pdfium.PdfDocument(data)
    whole = np.asarray(doc[0].render(scale=2, fill_color=(255, 255, 255, 255)).to_pil())
    doc.close()
    monkeypatch.setattr(pdf_to_image, "BAND_PIXELS", 180 * 7)  # 7-row bands: 18 of them
    output = run_tool("pdf-to-image", pdf_file(data), {"dpi": 144})

    banded = np.asarray(Image.open(output.path).convert("RGB"))
    assert banded.shape == whole.shape == (120, 180, 3)
    diff = np.abs(banded.astype(int) - whole[..., :3].astype(int))
    # PDFium resamples the page's image per clip, so values differ by a few levels (3
    # measured); a band one row off differs by up to 255 (mean 4.0).
    assert diff.max() <= 8 and diff.mean() < 0.5


def test_the_selected_pages_total_pixels_are_bounded(pdf_file, run_tool, monkeypatch) -> None:
    from tools import pdf_to_image

    monkeypatch.setattr(pdf_to_image, "MAX_TOTAL_MEGAPIXELS", 0.05)  # 50,000 px
    three = pdf_file(pdf_pages([RED, GREEN, BLUE]))  # 144x72 pt: 41,472 px each at 144 dpi

    with pytest.raises(ToolError) as caught:
        run_tool("pdf-to-image", three, {"dpi": 144})
    assert caught.value.code == "TOO_MANY_PIXELS"
    assert run_tool("pdf-to-image", three, {"dpi": 144, "pages": "2"}).path.exists()
