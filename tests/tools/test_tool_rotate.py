"""rotate: lossless quarter turns, arbitrary angles with a background, flips."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips

from tools import imaging, rotate, runner
from tools.base import ToolError


@pytest.mark.parametrize(
    ("angle", "turns"), [(90, -1), (180, 2), (270, 1), (-90, 1), (450 - 360, -1)]
)
def test_quarter_turns_are_exact(angle: float, turns: int, photo, run_tool, img) -> None:
    pixels = img.decode(run_tool("rotate", photo, {"angle": angle}).path)
    expected = np.rot90(img.decode(photo.path), k=turns)  # numpy turns counter-clockwise
    assert pixels.shape == expected.shape
    assert img.mad(pixels, expected) < 3


def test_a_full_turn_changes_nothing(photo, run_tool, img) -> None:
    pixels = img.decode(run_tool("rotate", photo, {"angle": 360}).path)
    assert img.mad(pixels, img.decode(photo.path)) < 3


@pytest.mark.parametrize(
    ("flip", "expected"),
    [("horizontal", np.fliplr), ("vertical", np.flipud), ("both", lambda a: a[::-1, ::-1])],
)
def test_flips_mirror_the_image(flip: str, expected, photo, run_tool, img) -> None:
    pixels = img.decode(run_tool("rotate", photo, {"flip": flip}).path)
    assert img.mad(pixels, expected(img.decode(photo.path))) < 3


def test_it_flips_before_rotating(photo, run_tool, img) -> None:
    pixels = img.decode(run_tool("rotate", photo, {"angle": 90, "flip": "horizontal"}).path)
    expected = np.rot90(np.fliplr(img.decode(photo.path)), k=-1)
    assert img.mad(pixels, expected) < 3


def test_odd_angles_fill_jpeg_corners_with_white(photo, run_tool, img) -> None:
    pixels = img.decode(run_tool("rotate", photo, {"angle": 45}).path)
    assert pixels.shape[0] > 600 and pixels.shape[1] > 600  # the rotated bounding box
    assert pixels[:5, :5].min() > 245
    centre = pixels.shape[0] // 2, pixels.shape[1] // 2
    assert img.decode(photo.path)[200, 300].mean() == pytest.approx(pixels[centre].mean(), abs=25)


def test_odd_angles_leave_transparent_corners_where_alpha_exists(
    transparent, run_tool, img
) -> None:
    output = run_tool("rotate", transparent, {"angle": -30})
    pixels = img.decode(output.path)
    assert output.media_type == "image/png" and pixels.shape[2] == 4
    assert pixels[0, 0, 3] == 0 and pixels[-1, -1, 3] == 0


def test_odd_angles_use_the_background_colour(photo, run_tool, img) -> None:
    pixels = img.decode(run_tool("rotate", photo, {"angle": 30, "background": "#00f"}).path)
    assert np.abs(pixels[2, 2] - [0, 0, 255]).max() < 10


def test_angles_rotate_clockwise() -> None:
    import pyvips

    marker = pyvips.Image.black(40, 40).draw_rect(255, 0, 0, 40, 5, fill=True)  # top edge
    turned = rotate.rotate(marker, 60, (0, 0, 0, 255)).numpy()
    h, w = turned.shape[:2]
    assert turned[: h // 2, w // 2 :].sum() > turned[: h // 2, : w // 2].sum()  # moved right


@pytest.mark.parametrize("raw", [{"angle": 361}, {"angle": "ninety"}, {"flip": "sideways"}])
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(rotate.TOOL, raw)
    assert caught.value.code == "INVALID_SETTINGS"


def test_it_keeps_the_input_format(transparent, run_tool) -> None:
    output = run_tool("rotate", transparent, {"angle": 90})
    assert imaging.sniff(output.path) == "png"


def test_the_horizontal_and_vertical_booleans_flip_like_flip_both():
    from tools import rotate

    by_name = rotate.TOOL.parse_settings({"flip": "both"})
    by_flags = rotate.TOOL.parse_settings({"horizontal": True, "vertical": True})
    assert by_flags.flips() == by_name.flips() == ["horizontal", "vertical"]
    assert rotate.TOOL.parse_settings({"vertical": True}).flips() == ["vertical"]


def test_a_rotation_whose_bounding_box_passes_the_pixel_limit_is_refused(
    tmp_path, make_source, ctx
) -> None:
    """1000x1000 (1 MP, within a 1 MP limit) turned 45 degrees is 1415x1415 (2 MP)."""
    path = tmp_path / "square.png"
    pyvips.Image.black(1000, 1000, bands=3).pngsave(str(path))
    settings = runner.validate_settings(rotate.TOOL, {"angle": 45})

    with pytest.raises(ToolError) as caught:
        runner.execute(rotate.TOOL, [make_source(path)], settings, ctx.derive(max_megapixels=1))

    assert (caught.value.code, caught.value.status) == ("IMAGE_TOO_LARGE", 413)
    assert "the rotated image is 1415x1415" in caught.value.message


def test_the_rotated_size_is_the_bounding_box() -> None:
    assert rotate.rotated_size(600, 400, 90) == (400, 600)
    assert rotate.rotated_size(600, 400, 0) == (600, 400)
    assert rotate.rotated_size(600, 400, 45) == (708, 708)
