"""collage: templates as data, cells smart-cropped in place, gaps, corners, counts."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips

from tools import collage
from tools.base import ToolError

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
PALETTE = [RED, GREEN, BLUE, YELLOW, (255, 0, 255), (0, 255, 255), (128, 0, 0), (0, 128, 0)]


def _colours(n: int) -> list[tuple[int, int, int]]:
    return [PALETTE[i % len(PALETTE)] if i < 8 else (i * 13 % 256, 60, 200) for i in range(n)]


def test_there_are_25_or_more_templates_each_inside_the_canvas():
    assert len(collage.TEMPLATES) >= 25
    assert {"grid-2x2", "mosaic-5", "pinwheel-5", "polaroid-wall-6", "filmstrip-5"} <= set(
        collage.TEMPLATES
    )
    for name, cells in collage.TEMPLATES.items():
        for x, y, w, h in cells:
            assert min(x, y) >= 0 and w > 0 and h > 0, name
            assert x + w <= 1 + 1e-9 and y + h <= 1 + 1e-9, name


@pytest.mark.parametrize("name", list(collage.TEMPLATES))
def test_every_template_renders_each_image_in_its_cell(name, run_many, solid_image, img):
    cells = collage.TEMPLATES[name]
    colours = _colours(len(cells))
    sources = [solid_image(12, 9, c, f"{i}.png") for i, c in enumerate(colours)]
    settings = {"template": name, "width": 200, "height": 160, "gap": 4}
    out = run_many("collage", sources, settings)
    pixels = img.decode(out.path)
    assert pixels.shape == (160, 200, 3)
    assert out.extras["template"] == name and out.extras["count"] == len(cells)
    for (x, y, w, h), c in zip(cells, colours, strict=True):
        centre = pixels[int((y + h / 2) * 160), int((x + w / 2) * 200)]
        assert list(centre) == list(c), (name, (x, y, w, h))


def test_a_grid_has_gaps_of_the_background_between_and_around(run_many, solid_image, img):
    sources = [solid_image(30, 30, c, f"{i}.png") for i, c in enumerate(_colours(4))]
    settings = {"template": "grid-2x2", "width": 100, "height": 80, "gap": 10}
    settings["backgroundColor"] = "#000000"
    pixels = img.decode(run_many("collage", sources, settings).path)
    # Cells: 10..45 and 55..90 across, 10..35 and 45..70 down.
    assert list(pixels[5, 5]) == [0, 0, 0] and list(pixels[75, 95]) == [0, 0, 0]
    assert list(pixels[20, 50]) == [0, 0, 0] and list(pixels[40, 20]) == [0, 0, 0]
    assert list(pixels[10, 10]) == [*RED] and list(pixels[34, 44]) == [*RED]
    assert list(pixels[10, 55]) == [*GREEN] and list(pixels[69, 89]) == [*YELLOW]


def test_rounded_corners_are_transparent_on_a_transparent_background(run_many, solid_image, img):
    sources = [solid_image(20, 20, RED, "a.png"), solid_image(20, 20, BLUE, "b.png")]
    settings = {"template": "row-2", "width": 200, "height": 100, "gap": 0}
    settings |= {"borderRadius": 20, "backgroundColor": "transparent"}
    pixels = img.decode(run_many("collage", sources, settings).path)
    assert pixels.shape == (100, 200, 4)
    assert pixels[0, 0, 3] == 0 and pixels[99, 99, 3] == 0 and pixels[0, 100, 3] == 0
    assert list(pixels[50, 50]) == [*RED, 255] and list(pixels[50, 150]) == [*BLUE, 255]
    assert list(pixels[0, 50]) == [*RED, 255]  # the straight edge stays opaque


def test_rounded_corners_show_an_opaque_background(run_many, solid_image, img):
    sources = [solid_image(20, 20, RED, "a.png"), solid_image(20, 20, BLUE, "b.png")]
    settings = {"template": "column-2", "width": 100, "height": 200, "gap": 6}
    settings |= {"borderRadius": 25, "backgroundColor": "#00ff00"}
    pixels = img.decode(run_many("collage", sources, settings).path)
    assert pixels.shape == (200, 100, 3)
    assert list(pixels[7, 7]) == [*GREEN]  # inside the cell box, outside its corner
    assert list(pixels[50, 50]) == [*RED]


def test_images_are_cover_cropped_keeping_the_interesting_part(
    run_many, solid_image, tmp_path, make_source, img
):
    # A wide grey image with a saturated red square at its right end: a square cell
    # keeps the square (smartcrop "attention"), not the centre.
    base = (pyvips.Image.black(300, 100, bands=3) + 128).cast("uchar")
    red = (pyvips.Image.black(80, 80, bands=3) + list(RED)).cast("uchar")
    path = tmp_path / "wide.png"
    base.insert(red, 210, 10).copy(interpretation="srgb").pngsave(str(path))
    settings = {"template": "single", "width": 100, "height": 100, "gap": 0}
    pixels = img.decode(run_many("collage", [make_source(path)], settings).path)
    assert pixels.shape == (100, 100, 3)
    assert pixels[..., 0].mean() > 200 and np.abs(pixels[50, 50] - RED).max() < 2


def test_auto_picks_a_layout_for_the_count(run_many, solid_image, img):
    sources = [solid_image(10, 10, c, f"{i}.png") for i, c in enumerate(_colours(7))]
    out = run_many("collage", sources, {"width": 90, "height": 90, "gap": 0})
    assert out.extras["template"] == "grid-3x3"
    pixels = img.decode(out.path)
    assert list(pixels[75, 15]) == list(_colours(7)[6])
    assert list(pixels[75, 75]) == [255, 255, 255]  # cells left over: background


def test_a_wrong_image_count_is_400_naming_the_template(run_many, solid_image):
    sources = [solid_image(10, 10, RED, f"{i}.png") for i in range(3)]
    with pytest.raises(ToolError) as err:
        run_many("collage", sources, {"template": "grid-2x2", "width": 100, "height": 100})
    assert err.value.status == 400 and err.value.code == "WRONG_INPUT_COUNT"
    assert "grid-2x2" in err.value.message and "4" in err.value.message


@pytest.mark.parametrize(
    "bad",
    [
        {"template": "grid-9x9"},
        {"gap": -1},
        {"width": 20000},
        {"height": 0},
        {"backgroundColor": "red"},
        {"borderRadius": -2},
        {"template": "single", "width": 20, "height": 20, "gap": 20},
    ],
)
def test_bad_settings_are_400(run_many, photo, bad):
    with pytest.raises(ToolError) as err:
        run_many("collage", [photo], bad)
    assert err.value.status == 400


def test_no_files_is_400_and_a_truncated_one_is_422(run_many, photo, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_many("collage", [], {})
    assert err.value.code == "WRONG_INPUT_COUNT"
    with pytest.raises(ToolError) as err:
        run_many("collage", [photo, truncated_jpeg], {"width": 200, "height": 200})
    assert err.value.status == 422


def test_a_canvas_over_the_pixel_limit_is_413(run_many, photo, ctx):
    ctx.max_megapixels = 1
    with pytest.raises(ToolError) as err:
        run_many("collage", [photo], {"width": 2000, "height": 2000})
    assert err.value.status == 413
