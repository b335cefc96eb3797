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
