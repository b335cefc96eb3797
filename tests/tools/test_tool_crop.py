"""crop: boxes, aspect ratios, shapes with alpha, bounds checks."""

from __future__ import annotations

import pytest

from tools import crop, imaging, runner
from tools.base import ToolError


def test_it_crops_the_box_it_was_given(photo, run_tool, img) -> None:
    output = run_tool("crop", photo, {"left": 100, "top": 50, "width": 200, "height": 150})
    pixels = img.decode(output.path)
    original = img.decode(photo.path)
    assert pixels.shape == (150, 200, 3)
    assert img.mad(pixels, original[50:200, 100:300]) < 3
    assert imaging.sniff(output.path) == "jpeg"


def test_it_crops_in_displayed_coordinates(photo, photo_rotated, run_tool, img) -> None:
    box = {"left": 300, "top": 100, "width": 200, "height": 200}
    upright = img.decode(run_tool("crop", photo, box).path)
    sideways = img.decode(run_tool("crop", photo_rotated, box).path)
    assert img.mad(upright, sideways) < 3


@pytest.mark.parametrize(
    ("raw", "box"),
    [
        ({"aspectRatio": "16:9"}, (0, 31, 600, 338)),
        ({"aspectRatio": 1}, (100, 0, 400, 400)),
        ({"aspectRatio": "1/2"}, (200, 0, 200, 400)),
        ({"aspectRatio": 2, "width": 300}, (150, 125, 300, 150)),
        ({"left": 500}, (500, 0, 100, 400)),
        ({"width": 100, "height": 100}, (250, 150, 100, 100)),
        ({"shape": "circle"}, (100, 0, 400, 400)),
    ],
)
def test_it_works_out_the_box(raw: dict, box: tuple) -> None:
    assert crop.crop_box(600, 400, crop.Settings.model_validate(raw).root) == box


def test_a_circle_has_transparent_corners(photo, run_tool, img) -> None:
    output = run_tool("crop", photo, {"shape": "circle"})
    pixels = img.decode(output.path)
    assert (output.media_type, pixels.shape) == ("image/png", (400, 400, 4))
    for y, x in ((0, 0), (0, 399), (399, 0), (399, 399), (30, 30)):
        assert pixels[y, x, 3] == 0
    assert pixels[200, 200, 3] == 255 and pixels[200, 2, 3] == 255


def test_rounded_corners_are_cut_and_edges_kept(photo, run_tool, img) -> None:
    settings = {"aspectRatio": 1, "shape": "rounded", "borderRadius": 60}
    pixels = img.decode(run_tool("crop", photo, settings).path)
    assert pixels[0, 0, 3] == 0 and pixels[5, 5, 3] == 0
    assert pixels[0, 200, 3] == 255 and pixels[200, 0, 3] == 255 and pixels[60, 60, 3] == 255


def test_a_shape_keeps_existing_transparency(transparent, run_tool, img) -> None:
    original_alpha = img.decode(transparent.path)[..., 3]
    pixels = img.decode(run_tool("crop", transparent, {"shape": "circle"}).path)
    assert pixels.shape == (300, 300, 4)
    assert pixels[150, 150, 3] == original_alpha[150, 225] == 255
    assert pixels[150, 5, 3] <= original_alpha[150, 80]  # the circle only removes alpha


def test_a_webp_shape_stays_webp(transparent, tmp_path, make_source, run_tool) -> None:
    webp = imaging.save(imaging.load(transparent, 100), tmp_path / "a.webp", "webp")
    output = run_tool("crop", make_source(webp), {"shape": "circle"})
    assert imaging.sniff(output.path) == "webp"


@pytest.mark.parametrize(
    "raw",
    [
        {"left": 500, "top": 0, "width": 200, "height": 100},
        {"left": 0, "top": 350, "width": 100, "height": 100},
        {"width": 700},
        {"left": 600},
    ],
)
def test_a_box_outside_the_image_is_refused(raw: dict, photo, run_tool) -> None:
    with pytest.raises(ToolError) as caught:
        run_tool("crop", photo, raw)
    assert (caught.value.code, caught.value.status) == ("CROP_OUT_OF_BOUNDS", 400)
    assert "600x400" in caught.value.message


@pytest.mark.parametrize(
    "raw",
    [
        {"width": 0, "height": 100},
        {"left": -1, "width": 10, "height": 10},
        {},
        {"aspectRatio": 1, "width": 10, "height": 10},
        {"aspectRatio": "wide"},
        {"aspectRatio": "16:0"},
        {"aspectRatio": 0},
        {"shape": "star"},
    ],
)
def test_empty_or_contradictory_crops_are_invalid(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(crop.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
