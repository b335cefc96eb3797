"""compose: the second file layered at x, y with opacity and a blend mode."""

from __future__ import annotations

import numpy as np
import pytest

from tools.base import ToolError


def test_the_layer_lands_at_x_y_with_its_own_size(run_many, solid_image, img):
    base = solid_image(200, 100, (0, 0, 0))
    top = solid_image(30, 20, (0, 255, 0), "top.png")
    pixels = img.decode(run_many("compose", [base, top], {"x": 40, "y": 25}).path)

    ys, xs = np.nonzero(pixels[..., 1] > 0)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (40, 69, 25, 44)
    assert list(pixels[30, 50, :3]) == [0, 255, 0]


def test_opacity_blends_as_computed(run_many, solid_image, img):
    base = solid_image(50, 50, (200, 0, 0))
    top = solid_image(50, 50, (0, 0, 200), "top.png")
    pixels = img.decode(run_many("compose", [base, top], {"opacity": 25}).path)
    assert pixels[10, 10, 0] == pytest.approx(150, abs=1)
    assert pixels[10, 10, 2] == pytest.approx(50, abs=1)


@pytest.mark.parametrize(
    ("blend", "expected"), [("multiply", 100 * 128 / 255), ("screen", 255 - 155 * 127 / 255)]
)
def test_blend_modes_follow_their_formulas(run_many, solid_image, img, blend, expected):
    base = solid_image(40, 40, (100, 100, 100))
    top = solid_image(40, 40, (128, 128, 128), "top.png")
    pixels = img.decode(run_many("compose", [base, top], {"blend": blend}).path)
    assert pixels[5, 5, 0] == pytest.approx(expected, abs=2)


def test_a_negative_offset_hangs_the_layer_off_the_edge(run_many, solid_image, img):
    base = solid_image(100, 100, (0, 0, 0))
    top = solid_image(30, 30, (255, 255, 255), "top.png")
    pixels = img.decode(run_many("compose", [base, top], {"x": -20, "y": -20}).path)
    assert pixels.shape[:2] == (100, 100)
    assert pixels[9, 9, 0] == 255 and pixels[10, 10, 0] == 0


@pytest.mark.parametrize("bad", [{"blend": "dissolve"}, {"opacity": 200}, {"x": 10**6}])
def test_bad_settings_are_400(run_many, photo, transparent, bad):
    with pytest.raises(ToolError) as err:
        run_many("compose", [photo, transparent], bad)
    assert err.value.status == 400


def test_it_needs_two_files(run_many, photo):
    with pytest.raises(ToolError) as err:
        run_many("compose", [photo, photo, photo], {})
    assert err.value.code == "WRONG_INPUT_COUNT"
