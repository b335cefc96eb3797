"""stitch: dimensions with gaps, a common height/width, alignment and background."""

from __future__ import annotations

import pytest

from tools.base import ToolError

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def test_horizontal_scales_to_the_smallest_height_with_gaps(run_many, photo, solid_image, img):
    block = solid_image(50, 100, RED)
    out = run_many("stitch", [photo, block], {"gap": 10, "backgroundColor": "#00ff00"})
    pixels = img.decode(out.path)
    # The photo (600x400) goes down to 100 px high: 150 wide; then 10 px gap; then 50.
    assert pixels.shape == (100, 210, 3)
    assert list(pixels[50, 155]) == [0, 255, 0]  # the gap
    assert list(pixels[50, 185]) == [255, 0, 0]
    assert img.ssim(pixels[:, :150], _photo_at(img, photo, 150, 100)) > 0.9


def _photo_at(img, photo, width, height):
    import pyvips

    image = pyvips.Image.new_from_file(str(photo.path)).thumbnail_image(width, height=height)
    return image.numpy().astype("float32").reshape(height, width, -1)


def test_vertical_without_scaling_aligns_the_narrow_image(run_many, solid_image, img):
    wide, narrow = solid_image(100, 20, RED), solid_image(40, 30, BLUE, "b.png")
    settings = {"direction": "vertical", "scale": "none", "gap": 5, "alignment": "end"}
    pixels = img.decode(run_many("stitch", [wide, narrow], settings).path)
    assert pixels.shape == (55, 100, 3)
    assert list(pixels[40, 99]) == [0, 0, 255] and list(pixels[40, 60]) == [0, 0, 255]
    assert list(pixels[40, 59]) == [255, 255, 255]  # left free: white background
    assert list(pixels[22, 50]) == [255, 255, 255]  # the gap


def test_a_grid_fills_rows_of_columns(run_many, solid_image, img):
    colours = [RED, BLUE, GREEN, RED, BLUE]
    sources = [solid_image(30, 30, c, f"{i}.png") for i, c in enumerate(colours)]
    settings = {"direction": "grid", "columns": 2, "gap": 4, "backgroundColor": "transparent"}
    out = run_many("stitch", sources, settings)
    pixels = img.decode(out.path)
    assert pixels.shape == (3 * 30 + 2 * 4, 2 * 30 + 4, 4)
    for i, c in enumerate(colours):
        row, col = divmod(i, 2)
        centre = pixels[row * 34 + 15, col * 34 + 15]
        assert list(centre) == [*c, 255]
    assert pixels[80, 50, 3] == 0  # the missing sixth cell is background: transparent


def test_the_largest_scale_enlarges_to_the_tallest(run_many, solid_image, img):
    small, tall = solid_image(10, 10, RED), solid_image(20, 40, BLUE, "b.png")
    out = run_many("stitch", [small, tall], {"scale": "largest"})
    assert img.decode(out.path).shape == (40, 60, 3)


@pytest.mark.parametrize(
    "bad", [{"gap": -1}, {"gap": 1001}, {"backgroundColor": "red"}, {"direction": "diagonal"}]
)
def test_bad_settings_are_400(run_many, photo, bad):
    with pytest.raises(ToolError) as err:
        run_many("stitch", [photo, photo], bad)
    assert err.value.status == 400


def test_no_files_is_400_and_a_truncated_one_is_422(run_many, photo, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_many("stitch", [], {})
    assert err.value.code == "WRONG_INPUT_COUNT"
    with pytest.raises(ToolError) as err:
        run_many("stitch", [photo, truncated_jpeg], {})
    assert err.value.status == 422


def test_a_result_over_the_pixel_limit_is_413(run_many, photo, ctx):
    ctx.max_megapixels = 1
    with pytest.raises(ToolError) as err:
        run_many("stitch", [photo, photo, photo, photo, photo], {})
    assert err.value.status == 413


def test_one_file_is_refused_naming_the_minimum(run_many, photo) -> None:
    with pytest.raises(ToolError) as caught:
        run_many("stitch", [photo], {"direction": "horizontal"})

    assert (caught.value.code, caught.value.status) == ("WRONG_INPUT_COUNT", 400)
    assert "2 or more files, got 1" in caught.value.message
