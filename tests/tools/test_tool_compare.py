"""compare: a difference picture plus SSIM, PSNR and changed-pixel share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from tools.base import ToolError
from tools.fields import parse_color


def jpeg_copy(photo, tmp_path: Path, make_source, quality: int):
    path = tmp_path / f"q{quality}.jpg"
    pyvips.Image.new_from_file(str(photo.path)).jpegsave(str(path), Q=quality)
    return make_source(path)


def test_identical_images_are_identical(run_many, photo):
    figures = run_many("compare", [photo, photo], {}).extras
    assert figures["ssim"] == pytest.approx(1.0)
    assert figures["psnr"] is None and figures["identical"] is True
    assert figures["changedPercent"] == 0


def test_more_compression_means_less_similarity(run_many, photo, tmp_path, make_source):
    good = run_many("compare", [photo, jpeg_copy(photo, tmp_path, make_source, 90)], {}).extras
    bad = run_many("compare", [photo, jpeg_copy(photo, tmp_path, make_source, 5)], {}).extras

    assert 0.9 < good["ssim"] < 1 and good["psnr"] > 30
    assert bad["ssim"] < good["ssim"] and bad["psnr"] < good["psnr"]
    assert bad["changedPercent"] > good["changedPercent"]


def test_the_diff_marks_exactly_the_changed_pixels(
    run_many, solid_image, tmp_path, make_source, img
):
    base = solid_image(100, 80, (50, 50, 50))
    edited = pyvips.Image.new_from_file(str(base.path))
    edited = edited.draw_rect([200, 50, 50], 10, 20, 30, 8, fill=True)
    edited.pngsave(str(tmp_path / "edited.png"))
    second = make_source(tmp_path / "edited.png")
    out = run_many("compare", [base, second], {"mode": "diff", "diffThreshold": 20})

    pixels = img.decode(out.path)
    red = (pixels[..., 0] == 255) & (pixels[..., 1] == 0)
    assert red.sum() == 30 * 8 and red[20:28, 10:40].all()
    assert out.extras["changedPercent"] == pytest.approx(100 * 240 / 8000)
    assert parse_color("#ff0000")[:3] == tuple(pixels[22, 12, :3].astype(int))


def test_a_threshold_above_the_difference_sees_no_change(run_many, solid_image):
    a, b = solid_image(40, 40, (100, 100, 100)), solid_image(40, 40, (110, 100, 100), "b.png")
    assert run_many("compare", [a, b], {"diffThreshold": 10}).extras["changedPercent"] == 0
    assert run_many("compare", [a, b], {"diffThreshold": 9}).extras["changedPercent"] == 100


def test_side_by_side_puts_them_next_to_each_other(run_many, photo, transparent, img):
    out = run_many("compare", [photo, transparent], {"mode": "side-by-side"})
    pixels = img.decode(out.path)
    assert pixels.shape[:2] == (400, 1200) and out.extras["resized"] is True


def test_overlay_mixes_half_and_half(run_many, solid_image, img):
    a, b = solid_image(20, 20, (0, 0, 0)), solid_image(20, 20, (200, 100, 50), "b.png")
    pixels = img.decode(run_many("compare", [a, b], {"mode": "overlay"}).path)
    assert list(pixels[5, 5, :3]) == [100, 50, 25]
    assert np.all(pixels[..., :3] == pixels[0, 0, :3])


@pytest.mark.parametrize("bad", [{"mode": "blink"}, {"diffThreshold": 256}])
def test_bad_settings_are_400(run_many, photo, bad):
    with pytest.raises(ToolError) as err:
        run_many("compare", [photo, photo], bad)
    assert err.value.status == 400


def test_one_file_is_not_enough_and_a_truncated_one_is_422(run_many, photo, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_many("compare", [photo], {})
    assert err.value.code == "WRONG_INPUT_COUNT"
    with pytest.raises(ToolError) as err:
        run_many("compare", [photo, truncated_jpeg], {})
    assert err.value.status == 422
