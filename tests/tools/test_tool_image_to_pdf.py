"""image-to-pdf: a page per image, the page sizes in points, placement, JPEG passthrough.

PDFs are read back with pikepdf (installed with img2pdf).
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
import pyvips
from PIL import Image

from tools import image_to_pdf, runner
from tools.base import ToolError

A4 = (595.2756, 841.8898)


def pages(path: Path) -> list[dict]:
    """Per page: its MediaBox size, the image's placement [w, 0, 0, h, x, y] and stream."""
    with pikepdf.open(path) as pdf:
        found = []
        for page in pdf.pages:
            box = [float(v) for v in page.mediabox]
            cm = next(ops for ops, op in pikepdf.parse_content_stream(page) if str(op) == "cm")
            image = next(iter(page.get_images().values()))
            found.append(
                {
                    "size": (box[2] - box[0], box[3] - box[1]),
                    "placed": [float(v) for v in cm],
                    "pixels": (int(image.Width), int(image.Height)),
                    "filter": str(image.get("/Filter")),
                    "raw": image.read_raw_bytes(),
                }
            )
        return found


def test_one_a4_page_per_image_with_the_jpeg_embedded_as_is(
    photo, transparent, photo_rotated, run_many
) -> None:
    output = run_many(
        "image-to-pdf", [photo, transparent, photo_rotated], {"orientation": "portrait"}
    )
    found = pages(output.path)
    assert len(found) == output.extras["pages"] == 3
    assert output.media_type == "application/pdf" and output.filename.endswith(".pdf")
    for page in found:
        assert page["size"] == pytest.approx(A4, abs=0.01)
    assert found[0]["raw"] == photo.path.read_bytes()  # DCT passthrough: not re-encoded
    assert found[1]["filter"] == "/FlateDecode"  # alpha flattened, lossless PNG data
    assert found[2]["pixels"] == (600, 400)  # the sideways photo, upright


def test_contain_centres_the_whole_image_inside_the_margins(photo, run_many) -> None:
    output = run_many("image-to-pdf", [photo], {"orientation": "portrait", "margin": 36})
    width, _, _, height, x, y = pages(output.path)[0]["placed"]
    assert width == pytest.approx(A4[0] - 72, abs=0.01)
    assert height == pytest.approx(width * 400 / 600, abs=0.01)
    assert x == pytest.approx(36, abs=0.01)
    assert y == pytest.approx((A4[1] - height) / 2, abs=0.01)


def test_auto_orientation_turns_the_page_for_a_landscape_image(photo, run_many) -> None:
    page = pages(run_many("image-to-pdf", [photo], {"pageSize": "letter"}).path)[0]
    assert page["size"] == pytest.approx((792, 612), abs=0.01)


def test_cover_fills_the_area_by_cropping_and_stretch_distorts(photo, run_many) -> None:
    cover = pages(run_many("image-to-pdf", [photo], {"fitMode": "cover", "margin": 10}).path)[0]
    box = (A4[1] - 20, A4[0] - 20)  # landscape
    assert cover["placed"][0] == pytest.approx(box[0], abs=0.01)
    assert cover["placed"][3] == pytest.approx(box[1], abs=0.01)
    assert cover["pixels"][0] / cover["pixels"][1] == pytest.approx(box[0] / box[1], abs=0.01)
    stretch = pages(run_many("image-to-pdf", [photo], {"fitMode": "stretch"}).path)[0]
    assert stretch["placed"][:4] == pytest.approx([A4[1], 0, 0, A4[0]], abs=0.01)
    assert stretch["pixels"] == (600, 400)


def test_fit_makes_the_page_the_image_plus_margins(photo, transparent, run_many) -> None:
    output = run_many("image-to-pdf", [photo, transparent], {"pageSize": "fit", "margin": 10})
    assert [p["size"] for p in pages(output.path)] == [(620, 420), (471, 320)]


def test_other_formats_are_decoded_and_embedded(
    photo, tmp_path: Path, make_source, run_many
) -> None:
    image = pyvips.Image.new_from_file(str(photo.path))
    image.webpsave(str(tmp_path / "a.webp"))
    Image.open(photo.path).save(tmp_path / "b.bmp")  # libvips cannot write BMP
    sources = [make_source(tmp_path / "a.webp"), make_source(tmp_path / "b.bmp")]
    found = pages(run_many("image-to-pdf", sources, {}).path)
    assert [p["filter"] for p in found] == ["/DCTDecode", "/FlateDecode"]  # lossy stays lossy
    assert [p["pixels"] for p in found] == [(600, 400), (600, 400)]


@pytest.mark.parametrize(
    "raw",
    [
        {"pageSize": "B5"},
        {"margin": -1},
        {"margin": 145},
        {"fitMode": "zoom"},
        {"orientation": "up"},
    ],
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(image_to_pdf.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_it_needs_at_least_one_image(run_many) -> None:
    with pytest.raises(ToolError) as caught:
        run_many("image-to-pdf", [], {})
    assert caught.value.code == "WRONG_INPUT_COUNT"


def test_a_truncated_jpeg_among_good_ones_fails_the_pdf(
    photo, truncated_jpeg, run_many, ctx
) -> None:
    with pytest.raises(ToolError) as caught:
        run_many("image-to-pdf", [photo, truncated_jpeg], {})
    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)
    leftovers = list(ctx.scratch_dir.glob("*")) if ctx.scratch_dir.exists() else []
    assert leftovers == []
