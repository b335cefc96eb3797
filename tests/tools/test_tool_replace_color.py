"""replace-color: the target pixels take the replacement, the others don't move."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from tools import replace_color, runner
from tools.base import Source, ToolError

BLUE, RED, ORANGE = (20, 40, 200), (230, 30, 30), (240, 120, 20)


@pytest.fixture
def swatches(tmp_path: Path, make_source) -> Source:
    """60x40 PNG: blue, with a red square (left) and an orange one (right), 20x20 each."""
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:] = BLUE
    pixels[10:30, 5:25] = RED
    pixels[10:30, 35:55] = ORANGE
    path = tmp_path / "swatches.png"
    pyvips.Image.new_from_array(pixels).copy(interpretation="srgb").pngsave(str(path))
    return make_source(path)


def test_the_target_takes_the_replacement_and_the_rest_stays(swatches, run_tool, img) -> None:
    output = run_tool(
        "replace-color", swatches, {"targetColor": "#e61e1e", "replacementColor": "#00ff00"}
    )
    pixels, original = img.decode(output.path), img.decode(swatches.path)
    assert pixels.shape == (40, 60, 3)
    assert (pixels[10:30, 5:25] == (0, 255, 0)).all()
    untouched = np.ones((40, 60), bool)
    untouched[10:30, 5:25] = False
    assert np.array_equal(pixels[untouched], original[untouched])
    assert output.extras["replacedPercent"] == pytest.approx(100 * 400 / 2400, abs=0.01)


def test_tolerance_is_a_colour_distance(swatches, run_tool, img) -> None:
    near = {"targetColor": "#dc2828", "replacementColor": "#000000"}  # ΔE00 ~ 2 from red
    assert (
        run_tool("replace-color", swatches, {**near, "tolerance": 1}).extras["replacedPercent"] == 0
    )
    wide = run_tool("replace-color", swatches, {**near, "tolerance": 5})
    assert img.decode(wide.path)[20, 15].tolist() == [0, 0, 0]
    assert img.decode(wide.path)[20, 45].tolist() == list(ORANGE)  # much further away


def test_transparent_replacement_adds_alpha_and_jpeg_becomes_png(
    photo, swatches, run_tool, img
) -> None:
    output = run_tool("replace-color", swatches, {"targetColor": "#1428c8"})
    pixels = img.decode(output.path)
    assert pixels.shape[2] == 4
    assert pixels[0, 0, 3] == 0 and pixels[20, 15, 3] == 255
    from_jpeg = run_tool("replace-color", photo, {"targetColor": "#ffffff", "tolerance": 20})
    assert from_jpeg.media_type == "image/png" and img.decode(from_jpeg.path).shape[2] == 4


def test_invert_replaces_everything_else(swatches, run_tool, img) -> None:
    settings = {"targetColor": "#e61e1e", "replacementColor": "#ffffff80", "invert": True}
    pixels = img.decode(run_tool("replace-color", swatches, settings).path)
    assert pixels[20, 15].tolist() == [*RED, 255]
    assert pixels[0, 0].tolist() == [255, 255, 255, 128]
    assert pixels[20, 45].tolist() == [255, 255, 255, 128]


def test_existing_alpha_is_kept_where_nothing_is_replaced(transparent, run_tool, img) -> None:
    output = run_tool("replace-color", transparent, {"targetColor": "#00ff00", "tolerance": 1})
    assert np.array_equal(img.decode(output.path), img.decode(transparent.path))


@pytest.mark.parametrize(
    "raw",
    [
        {"targetColor": "#zzzzzz"},
        {"replacementColor": "red"},
        {"tolerance": 101},
        {"tolerance": -1},
        {"format": "jpeg"},  # cannot hold the default transparent replacement
    ],
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(replace_color.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_an_opaque_replacement_may_be_jpeg(photo, run_tool) -> None:
    settings = {"targetColor": "#ffffff", "replacementColor": "#000", "format": "jpeg"}
    assert run_tool("replace-color", photo, settings).media_type == "image/jpeg"
