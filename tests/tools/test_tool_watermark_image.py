"""watermark-image: the second file scaled, faded and anchored over the first."""

from __future__ import annotations

import numpy as np
import pytest

from tools.base import ToolError


def test_the_mark_is_scaled_faded_and_anchored(run_many, solid_image, img):
    base = solid_image(400, 200, (0, 0, 0))
    mark = solid_image(50, 25, (255, 0, 0), "mark.png")
    settings = {"scale": 25, "opacity": 50, "position": "bottom-right", "margin": 10}
    pixels = img.decode(run_many("watermark-image", [base, mark], settings).path)

    ys, xs = np.nonzero(pixels[..., 0] > 10)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (290, 389, 140, 189)  # 100x50
    assert pixels[160, 330, 0] == pytest.approx(127.5, abs=1)
    assert pixels[..., 1].max() == 0


def test_a_transparent_mark_keeps_its_transparency(run_many, solid_image, transparent, img):
    base = solid_image(451, 300, (0, 0, 0))
    settings = {"scale": 100, "opacity": 100, "position": "center", "margin": 0}
    pixels = img.decode(run_many("watermark-image", [base, transparent], settings).path)
    assert pixels[0, 0, :3].max() == 0  # the mark's transparent corner shows the base
    assert pixels[150, 225, :3].max() > 20


def test_it_needs_two_files(run_many, photo):
    with pytest.raises(ToolError) as err:
        run_many("watermark-image", [photo], {})
    assert err.value.code == "WRONG_INPUT_COUNT"


def test_a_truncated_watermark_is_422(run_many, photo, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_many("watermark-image", [photo, truncated_jpeg], {})
    assert err.value.status == 422


@pytest.mark.parametrize("bad", [{"scale": 0}, {"opacity": -1}, {"position": "nowhere"}])
def test_bad_settings_are_400(run_many, photo, transparent, bad):
    with pytest.raises(ToolError) as err:
        run_many("watermark-image", [photo, transparent], bad)
    assert err.value.status == 400
