"""color-palette: dominant colours by median cut, with their shares."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from tools.base import ToolError


def two_colours(tmp_path: Path, make_source):
    """300x100: the left third blue, the rest orange."""
    image = pyvips.Image.black(300, 100).new_from_image([255, 128, 0]).cast("uchar")
    image = image.draw_rect([0, 0, 255], 0, 0, 100, 100, fill=True)
    image.copy(interpretation="srgb").pngsave(str(tmp_path / "two.png"))
    return make_source(tmp_path / "two.png")


def test_it_finds_both_colours_of_a_two_colour_image(run_tool, tmp_path, make_source):
    data = run_tool("color-palette", two_colours(tmp_path, make_source), {"count": 5}).data
    colours = [(c["color"], c["percent"]) for c in data["colors"]]
    assert [c for c, _ in colours] == ["#ff8000", "#0000ff"]
    assert colours[0][1] == pytest.approx(66.67, abs=0.5)
    assert sum(p for _, p in colours) == pytest.approx(100)


def test_rgb_format(run_tool, tmp_path, make_source):
    data = run_tool("color-palette", two_colours(tmp_path, make_source), {"format": "rgb"}).data
    assert data["colors"][1]["color"] == "rgb(0, 0, 255)"
    assert data["colors"][1]["rgb"] == [0, 0, 255]


def test_a_photo_gives_the_count_asked_for(run_tool, photo):
    out = run_tool("color-palette", photo, {"count": 6})
    assert len(out.data["colors"]) == 6 and "median cut" in out.engine


def test_transparent_pixels_are_left_out(run_tool, solid_image):
    clear = solid_image(50, 50, (255, 0, 0, 0))
    with pytest.raises(ToolError) as err:
        run_tool("color-palette", clear, {})
    assert err.value.code == "NO_OPAQUE_PIXELS"
    half = solid_image(50, 50, (0, 255, 0, 200), "half.png")
    colours = run_tool("color-palette", half, {}).data["colors"]
    assert [c["color"] for c in colours] == ["#00ff00"]


@pytest.mark.parametrize("bad", [{"count": 0}, {"count": 33}, {"format": "hsl"}])
def test_bad_settings_are_400(run_tool, photo, bad):
    with pytest.raises(ToolError) as err:
        run_tool("color-palette", photo, bad)
    assert err.value.status == 400


def test_a_truncated_jpeg_is_422(run_tool, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_tool("color-palette", truncated_jpeg, {})
    assert err.value.status == 422
