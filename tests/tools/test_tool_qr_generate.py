"""qr-generate: styled QR codes that still scan, decoded back with zxing-cpp."""

from __future__ import annotations

import pytest
import pyvips
import zxingcpp

from tools import registry, runner
from tools.base import ToolError

URL = "https://pixelsmith.example/albums/42?ref=qr&name=Zoë"


def generate(ctx, **settings):
    tool = registry.get("qr-generate")
    assert tool is not None
    return runner.execute(tool, [], runner.validate_settings(tool, settings), ctx)


def scan(path) -> list:
    image = pyvips.Image.new_from_file(str(path))
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255])
    grey = image.colourspace("b-w")[0].cast("uchar")
    pixels = memoryview(grey.write_to_memory()).cast("B", (grey.height, grey.width))
    return zxingcpp.read_barcodes(pixels)


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("dot_style", ["square", "rounded", "dots"])
def test_every_style_and_level_scans_back_to_its_data(ctx, dot_style, level):
    corner = "rounded" if dot_style != "square" else "square"
    out = generate(
        ctx, data=URL, size=300, dotStyle=dot_style, errorCorrectionLevel=level, cornerStyle=corner
    )
    codes = scan(out.path)
    assert [(c.format.name, c.text) for c in codes] == [("QRCode", URL)]
    assert codes[0].ec_level == level
    assert out.extras["errorCorrection"] == level


def test_the_png_has_the_size_margin_and_colours_asked(ctx, img):
    out = generate(ctx, data="hi", size=290, margin=4, colorDark="#1a237e", colorLight="#fff59d")
    pixels = img.decode(out.path)
    assert pixels.shape == (290, 290, 3) and out.media_type == "image/png"
    modules = out.extras["modules"]  # 21 for version 1: 29 modules with the margin, 10 px each
    assert modules == 21
    assert list(pixels[5, 5]) == [0xFF, 0xF5, 0x9D]  # quiet zone: light
    assert list(pixels[45, 45]) == [0x1A, 0x23, 0x7E]  # finder pattern corner module: dark
    assert len(scan(out.path)) == 1


def test_a_transparent_background_stays_transparent(ctx, img):
    out = generate(ctx, data="hi", colorLight="transparent", size=128)
    pixels = img.decode(out.path)
    assert pixels.shape[2] == 4 and pixels[2, 2, 3] == 0
    assert scan(out.path)[0].text == "hi"


def test_svg_output_is_a_vector_that_renders_and_scans(ctx, tmp_path):
    out = generate(ctx, data=URL, format="svg", dotStyle="dots", size=400)
    text = out.path.read_text()
    assert text.startswith("<svg") and "<circle" in text and out.media_type == "image/svg+xml"
    raster = pyvips.Image.svgload(str(out.path))
    assert (raster.width, raster.height) == (400, 400)
    raster.pngsave(str(tmp_path / "svg.png"))
    assert scan(tmp_path / "svg.png")[0].text == URL


def test_the_longest_data_fits_at_level_l_but_not_h(ctx):
    data = "x" * 2953
    assert generate(ctx, data=data, errorCorrectionLevel="L", size=400).extras["version"] == 40
    with pytest.raises(ToolError) as err:
        generate(ctx, data=data, errorCorrectionLevel="H")
    assert err.value.code == "DATA_TOO_LONG" and err.value.status == 400


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"data": ""},
        {"data": "x" * 2954},
        {"data": "x", "size": 32},
        {"data": "x", "margin": 17},
        {"data": "x", "colorDark": "black"},
        {"data": "x", "errorCorrectionLevel": "X"},
        {"data": "x", "dotStyle": "hearts"},
        {"data": "x", "colorDark": "#777777", "colorLight": "#888888"},
    ],
)
def test_bad_settings_are_400(ctx, bad):
    with pytest.raises(ToolError) as err:
        generate(ctx, **bad)
    assert err.value.status == 400


@pytest.mark.parametrize("dot_style", ["square", "dots"])
@pytest.mark.parametrize("logo_size", [20, 30])
def test_a_logo_sits_in_the_middle_and_the_code_still_scans(ctx, photo, dot_style, logo_size):
    tool = registry.get("qr-generate")
    assert tool is not None
    settings = {"data": URL, "size": 400, "dotStyle": dot_style, "logoSize": logo_size}
    out = runner.execute(tool, [photo], runner.validate_settings(tool, settings), ctx)

    codes = scan(out.path)
    assert [(c.format.name, c.text) for c in codes] == [("QRCode", URL)]
    assert out.extras["errorCorrection"] == "H"  # raised from M for the logo
    image = pyvips.Image.new_from_file(str(out.path))
    centre = image.crop(190, 190, 20, 20)
    means = [centre[band].avg() for band in range(3)]
    # QR modules are grey (equal channels); the photo in the middle is coloured.
    assert max(means) - min(means) > 10


def test_an_svg_with_a_logo_embeds_it_and_still_scans(ctx, photo, tmp_path):
    tool = registry.get("qr-generate")
    assert tool is not None
    out = runner.execute(tool, [photo], {"data": URL, "format": "svg"}, ctx)

    svg = out.path.read_text()
    assert 'href="data:image/png;base64,' in svg
    png = tmp_path / "rendered.png"
    pyvips.Image.svgload_buffer(svg.encode()).pngsave(str(png))
    assert [c.text for c in scan(png)] == [URL]


def test_it_takes_at_most_one_file(run_tool, photo):
    tool = registry.get("qr-generate")
    assert tool is not None
    with pytest.raises(ToolError) as err:
        runner.execute(tool, [photo, photo], {"data": "x"}, None)  # type: ignore[arg-type]
    assert err.value.code == "WRONG_INPUT_COUNT"
