"""vectorize: raster → SVG paths that render back to the same picture."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from defusedxml import ElementTree

from tools import imaging, registry, runner
from tools.base import Context, OutputKind, Source, ToolError

SVG_NS = "{http://www.w3.org/2000/svg}"


def square_on_white(tmp_path: Path, level: int = 0) -> Source:
    """120×80 white PNG with a 40×40 square of grey `level` at (20, 20)."""
    canvas = (pyvips.Image.black(120, 80, bands=3) + 255).cast("uchar")
    square = (pyvips.Image.black(40, 40, bands=3) + level).cast("uchar")
    path = tmp_path / "square.png"
    canvas.insert(square, 20, 20).pngsave(str(path))
    return imaging.open_source(path, "square.png")


def vectorize(source: Source, ctx: Context, **settings: object) -> tuple[str, pyvips.Image]:
    tool = registry.get("vectorize")
    assert tool is not None
    output = runner.execute(tool, [source], settings, ctx)
    assert output.kind is OutputKind.DOCUMENT and output.media_type == "image/svg+xml"
    assert output.path is not None and "VTracer" in output.engine
    svg = output.path.read_text()
    return svg, pyvips.Image.svgload_buffer(svg.encode()).flatten(background=[255, 255, 255])


def test_a_square_traces_to_paths_that_render_back_to_the_square(tmp_path, ctx):
    svg, rendered = vectorize(square_on_white(tmp_path), ctx, colorMode="bw")

    root = ElementTree.fromstring(svg)
    assert (root.get("width"), root.get("height")) == ("120", "80")
    assert root.findall(f".//{SVG_NS}path")
    grey = rendered.colourspace("b-w")[0]
    assert grey.crop(30, 30, 20, 20).avg() < 40  # inside the square: dark
    assert grey.crop(80, 10, 30, 60).avg() > 215  # beside it: white


def test_the_bw_threshold_decides_what_is_dark(tmp_path, ctx):
    source = square_on_white(tmp_path, level=100)
    _, low = vectorize(source, ctx, colorMode="bw", threshold=50)
    _, high = vectorize(source, Context(tmp_path / "again"), colorMode="bw", threshold=128)

    assert low.colourspace("b-w")[0].crop(30, 30, 20, 20).avg() > 215  # 100 ≥ 50: white
    assert high.colourspace("b-w")[0].crop(30, 30, 20, 20).avg() < 40  # 100 < 128: black


def test_colour_mode_keeps_the_colours_of_a_photo(photo, ctx):
    svg, rendered = vectorize(photo, ctx, maxSize=200)

    fills = {p.get("fill") for p in ElementTree.fromstring(svg).iter(f"{SVG_NS}path")}
    assert len(fills) > 10
    original = imaging.load(photo, 100).thumbnail_image(200)
    assert (rendered.width, rendered.height) == (original.width, original.height)
    assert abs(rendered.avg() - original.avg()) < 12


@pytest.mark.parametrize("mode", ["none", "polygon", "spline"])
def test_each_path_mode_traces(tmp_path, ctx, mode):
    svg, _ = vectorize(square_on_white(tmp_path), ctx, colorMode="bw", pathMode=mode)
    assert "<path" in svg


@pytest.mark.parametrize(
    "bad",
    [{"threshold": 256}, {"colorPrecision": 0}, {"pathMode": "bezier"}, {"maxSize": 5}],
)
def test_out_of_range_settings_are_refused(bad):
    tool = registry.get("vectorize")
    assert tool is not None
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(tool, bad)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_a_truncated_jpeg_is_422(truncated_jpeg, ctx):
    tool = registry.get("vectorize")
    assert tool is not None
    with pytest.raises(ToolError) as caught:
        runner.execute(tool, [truncated_jpeg], {}, ctx)
    assert caught.value.status == 422
