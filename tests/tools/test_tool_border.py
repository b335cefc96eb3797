"""border: widths and colours at known pixels, gradients, patterns, corners and shadow."""

from __future__ import annotations

import pytest

from tools.base import ToolError

RED = (200, 30, 30)


def test_a_solid_border_with_padding_has_exact_widths(run_tool, solid_image, img):
    source = solid_image(60, 40, RED)
    settings = {"width": 10, "color": "#0000ff", "padding": 5, "paddingColor": "#00ff00"}
    pixels = img.decode(run_tool("border", source, settings).path)
    assert pixels.shape[:2] == (40 + 30, 60 + 30)
    assert list(pixels[0, 0, :3]) == [0, 0, 255] and list(pixels[9, 45, :3]) == [0, 0, 255]
    assert list(pixels[10, 45, :3]) == [0, 255, 0] and list(pixels[14, 45, :3]) == [0, 255, 0]
    assert list(pixels[15, 45, :3]) == [*RED]
    assert list(pixels[69, 89, :3]) == [0, 0, 255]


def test_the_photo_is_unchanged_inside(run_tool, photo, img):
    out = run_tool("border", photo, {"width": 12})
    pixels, original = img.decode(out.path), img.decode(photo.path)
    assert out.media_type == "image/jpeg" and pixels.shape == (424, 624, 3)
    assert img.ssim(pixels[12:-12, 12:-12], original) > 0.97


def test_a_gradient_runs_from_the_first_colour_to_the_second(run_tool, solid_image, img):
    settings = {"width": 20, "style": "gradient", "color": "#000000", "secondColor": "#ffffff"}
    pixels = img.decode(run_tool("border", solid_image(40, 60, RED), settings).path)
    assert pixels[0, 5, 0] == 0 and pixels[-1, 5, 0] == 255
    assert pixels[50, 5, 0] == pytest.approx(255 * 50 / 99, abs=1)


@pytest.mark.parametrize("kind", ["checker", "stripes"])
def test_patterns_alternate_the_two_colours(run_tool, solid_image, img, kind):
    settings = {"width": 16, "style": "pattern", "patternType": kind, "patternSize": 4}
    settings |= {"color": "#000000", "secondColor": "#ffffff"}
    pixels = img.decode(run_tool("border", solid_image(40, 40, RED), settings).path)
    assert pixels[0, 0, 0] == 0 and pixels[0, 4, 0] == 255 and pixels[4, 4, 0] == 0
    assert pixels[4, 0, 0] == 255


def test_rounded_corners_are_transparent(run_tool, photo, img):
    out = run_tool("border", photo, {"width": 10, "borderRadius": 40})
    pixels = img.decode(out.path)
    assert out.media_type == "image/png" and pixels.shape == (420, 620, 4)
    assert pixels[0, 0, 3] == 0 and pixels[-1, -1, 3] == 0 and pixels[5, 5, 3] == 0
    assert pixels[0, 310, 3] == 255 and pixels[210, 0, 3] == 255 and pixels[200, 300, 3] == 255


def test_a_shadow_grows_the_canvas_and_darkens_below_right(run_tool, solid_image, img):
    settings = {"width": 0, "shadow": True, "shadowOffsetX": 10, "shadowOffsetY": 10}
    settings |= {"shadowBlur": 0, "shadowColor": "#000000"}
    pixels = img.decode(run_tool("border", solid_image(50, 50, RED), settings).path)
    assert pixels.shape == (60, 60, 4)
    assert list(pixels[55, 55]) == [0, 0, 0, 255]  # the shadow alone
    assert pixels[5, 55, 3] == 0 and list(pixels[20, 20]) == [*RED, 255]


def test_a_blurred_shadow_fades_out(run_tool, solid_image, img):
    settings = {"width": 0, "shadow": True, "shadowBlur": 10, "shadowColor": "#00000080"}
    pixels = img.decode(run_tool("border", solid_image(50, 50, RED), settings).path)
    assert pixels.shape == (50 + 15 - 8 + 15 + 8, 50 + 30, 4)
    assert 0 < pixels[-10, 40, 3] < 128 and pixels[0, 0, 3] == 0


@pytest.mark.parametrize(
    "bad",
    [{"width": -1}, {"width": 1001}, {"color": "blue"}, {"style": "dotted"}, {"padding": 5000}],
)
def test_bad_settings_are_400(run_tool, photo, bad):
    with pytest.raises(ToolError) as err:
        run_tool("border", photo, bad)
    assert err.value.status == 400


def test_wrong_count_and_truncated_file(run_many, run_tool, photo, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_many("border", [photo, photo], {})
    assert err.value.code == "WRONG_INPUT_COUNT"
    with pytest.raises(ToolError) as err:
        run_tool("border", truncated_jpeg, {})
    assert err.value.status == 422
