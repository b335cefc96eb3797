"""svg-to-raster: sanitised first (no scripts, no external references, no entities)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.documents import BILLION_LAUGHS_SVG, DRAWING_SVG
from tools import imaging
from tools.base import ToolError
from tools.svg_sanitise import sanitise


@pytest.fixture
def svg_file(tmp_path: Path, make_source):
    def make(data: bytes, name: str = "drawing.svg"):
        path = tmp_path / name
        path.write_bytes(data)
        return make_source(path)

    return make


def test_it_renders_the_drawing_at_its_size_with_its_colours(svg_file, run_tool, img) -> None:
    output = run_tool("svg-to-raster", svg_file(DRAWING_SVG), {})

    pixels = img.decode(output.path)
    assert imaging.sniff(output.path) == "png"
    assert pixels.shape == (80, 120, 4)
    assert pixels[40, 20].tolist() == [255, 0, 0, 255]
    assert pixels[40, 100].tolist() == [0, 0, 255, 255]  # the external image drew nothing
    assert "librsvg" in output.engine and "defusedxml" in output.engine
    assert output.extras["removed"]["references"] == 2


@pytest.mark.parametrize(
    ("options", "size"),
    [({"width": 300}, (300, 200)), ({"height": 40}, (60, 40)), ({"scale": 2.5}, (300, 200))],
)
def test_it_renders_at_the_requested_size(svg_file, run_tool, img, options, size) -> None:
    output = run_tool("svg-to-raster", svg_file(DRAWING_SVG), {"format": "webp", **options})
    pixels = img.decode(output.path)
    assert (pixels.shape[1], pixels.shape[0]) == size
    assert imaging.sniff(output.path) == "webp"


def test_a_background_fills_behind_and_jpeg_works(svg_file, run_tool, img) -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
        b'<rect width="10" height="10" fill="#f00"/></svg>'
    )
    output = run_tool("svg-to-raster", svg_file(svg), {"format": "jpg", "background": "#00ff00"})
    pixels = img.decode(output.path)
    assert imaging.sniff(output.path) == "jpeg"
    assert pixels[5, 15, 1] > 240 and pixels[5, 15, 0] < 20


def test_the_sanitiser_removes_external_references_scripts_and_handlers() -> None:
    evil = (
        b'<?xml-stylesheet href="http://192.0.2.1/x.css"?>'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        b'onload="alert(1)"><style>@import url(http://192.0.2.1/a.css);'
        b" rect { fill: url(file:///etc/passwd#g) }</style><script>alert(1)</script>"
        b'<foreignObject><img src="http://192.0.2.1/i"/></foreignObject>'
        b'<image xlink:href="file:///etc/passwd"/><image href="data:image/svg+xml;base64,AA=="/>'
        b'<image href="data:image/png;base64,iVBORw0KGgo="/><use href="#r"/>'
        b'<rect id="r" fill="url(#g)" style="fill:url(\'https://192.0.2.1/p\')" onclick="x()"/>'
        b"</svg>"
    )
    clean = sanitise(evil).xml.decode()

    for gone in ("script", "foreignObject", "onload", "onclick", "192.0.2.1", "file:"):
        assert gone not in clean
    assert "@import" not in clean and "svg+xml" not in clean and "stylesheet" not in clean
    assert 'href="#r"' in clean and 'fill="url(#g)"' in clean and "data:image/png" in clean


def test_an_external_reference_is_dropped_and_rendering_succeeds(svg_file, run_tool) -> None:
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<image width="10" height="10" href="file:///etc/passwd"/></svg>'
    )
    assert b"passwd" not in sanitise(svg).xml
    output = run_tool("svg-to-raster", svg_file(svg), {})
    assert output.path is not None and output.path.stat().st_size > 0


def test_billion_laughs_is_refused_before_expansion(svg_file, run_tool) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("svg-to-raster", svg_file(BILLION_LAUGHS_SVG), {})
    assert (caught.value.status, caught.value.code) == (400, "UNSAFE_SVG")


def test_a_render_over_the_pixel_limit_is_refused(svg_file, run_tool, ctx) -> None:
    ctx.max_megapixels = 1
    for settings in ({"scale": 50}, {"width": 16383}, {"dpi": 1200}):
        with pytest.raises(ToolError) as caught:
            run_tool("svg-to-raster", svg_file(DRAWING_SVG), settings)
        assert (caught.value.status, caught.value.code) == (413, "IMAGE_TOO_LARGE")


def test_dpi_scales_the_drawing_from_72(svg_file, run_tool, img) -> None:
    output = run_tool("svg-to-raster", svg_file(DRAWING_SVG), {"dpi": 144})
    assert img.decode(output.path).shape[:2] == (160, 240)


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10"><rect', 422, "CORRUPT_IMAGE"),
        (b"<svg><<<", 422, "CORRUPT_IMAGE"),
    ],
)
def test_broken_svgs_are_422(svg_file, run_tool, data, status, code) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("svg-to-raster", svg_file(data), {})
    assert (caught.value.status, caught.value.code) == (status, code)


def test_it_refuses_a_photo_and_bad_settings(photo, svg_file, run_tool) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("svg-to-raster", photo, {})
    assert caught.value.code == "NOT_SVG"
    for bad in ({"scale": 2, "width": 10}, {"dpi": 5}, {"format": "bmp"}, {"background": "red"}):
        with pytest.raises(ToolError) as caught:
            run_tool("svg-to-raster", svg_file(DRAWING_SVG), bad)
        assert caught.value.code == "INVALID_SETTINGS"
