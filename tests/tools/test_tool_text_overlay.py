"""text-overlay: a caption at x, y on an optional padded, rounded box."""

from __future__ import annotations

import numpy as np
import pytest

from tools.base import ToolError

GREY = (90, 90, 90)


def changed(img, output) -> np.ndarray:
    pixels = img.decode(output.path)[..., :3]
    return np.abs(pixels - np.array(GREY, dtype=np.float32)).max(axis=2) > 2


def test_the_box_starts_at_x_y_and_is_filled_with_the_background(run_tool, solid_image, img):
    base = solid_image(400, 300, GREY)
    settings = {"text": "Hello", "x": 50, "y": 60, "background": "#0000ff", "padding": 10}
    out = run_tool("text-overlay", base, settings)

    pixels, mask = img.decode(out.path), changed(img, out)
    ys, xs = np.nonzero(mask)
    assert (xs.min(), ys.min()) == (50, 60)
    assert list(pixels[62, 52, :3]) == [0, 0, 255]  # inside the padding: pure box colour
    assert not mask[:55, :].any() and not mask[:, :45].any()
    assert "Pango" in out.engine


def test_a_border_radius_rounds_the_corners(run_tool, solid_image, img):
    base = solid_image(400, 300, GREY)
    settings = {"text": "Hello", "x": 50, "y": 60, "background": "#000000"}
    square = changed(img, run_tool("text-overlay", base, settings))
    rounded = changed(img, run_tool("text-overlay", base, settings | {"borderRadius": 12}))

    assert square[60, 50] and not rounded[60, 50]
    assert rounded[60, 70]  # the straight part of the top edge is still box


def test_without_a_background_only_the_glyphs_change(run_tool, solid_image, img):
    base = solid_image(400, 300, GREY)
    mask = changed(img, run_tool("text-overlay", base, {"text": "Hi", "x": 10, "y": 10}))
    assert 0 < mask.mean() < 0.02


@pytest.mark.parametrize(
    "bad",
    [{"text": ""}, {"text": "a", "font": "Arial"}, {"text": "a", "background": "#12"}],
)
def test_bad_settings_are_400(run_tool, photo, bad):
    with pytest.raises(ToolError) as err:
        run_tool("text-overlay", photo, bad)
    assert err.value.status == 400


def test_a_truncated_jpeg_is_422(run_tool, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_tool("text-overlay", truncated_jpeg, {"text": "a"})
    assert err.value.status == 422
