"""image-enhancement: it measures, corrects only what is off, and says what it did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from tools import image_enhancement, runner
from tools.base import Context, Output, Source, ToolError


@pytest.fixture
def enhance(ctx: Context):
    """Run image-enhancement the way the apps do (settings validated first)."""

    def run(source: Source, settings: dict) -> Output:
        parsed = runner.validate_settings(image_enhancement.TOOL, {"format": "png", **settings})
        return runner.execute(image_enhancement.TOOL, [source], parsed, ctx)

    return run


@pytest.fixture
def altered(photo, tmp_path: Path, make_source):
    """The photo multiplied per channel (darkened, tinted), saved losslessly."""

    def make(factors: list[float], name: str) -> Source:
        image = pyvips.Image.new_from_file(str(photo.path)) * factors
        path = tmp_path / f"{name}.png"
        image.cast("uchar").copy(interpretation="srgb").pngsave(str(path))
        return make_source(path)

    return make


def channel_means(pixels: np.ndarray) -> np.ndarray:
    return pixels[..., :3].reshape(-1, 3).mean(axis=0)


def test_a_well_exposed_photo_has_nothing_to_correct(photo, enhance, img) -> None:
    output = enhance(photo, {"strength": 100})
    assert output.extras["summary"] == "nothing to correct"
    assert output.extras["corrected"] == {}
    assert 0.3 < output.extras["measured"]["meanLuma"] < 0.5
    assert img.mad(img.decode(output.path), img.decode(photo.path)) < 0.5


def test_a_dark_photo_gets_brighter(photo, altered, enhance, img) -> None:
    dark = altered([0.45, 0.45, 0.45], "dark")
    output = enhance(dark, {})
    before, after = img.decode(dark.path).mean(), img.decode(output.path).mean()
    original = img.decode(photo.path).mean()
    assert after > before + (original - before) * 0.6
    assert {"levels", "exposure"} <= set(output.extras["corrected"])
    assert output.extras["corrected"]["exposure"]["gamma"] < 1


def test_exposure_mode_corrects_with_gamma_only(altered, enhance, img) -> None:
    dark = altered([0.45, 0.45, 0.45], "dark")
    output = enhance(dark, {"mode": "exposure"})
    assert set(output.extras["corrected"]) == {"exposure"}
    assert img.decode(output.path).mean() > img.decode(dark.path).mean() * 1.3


def test_a_colour_cast_is_corrected_back(photo, altered, enhance, img, make_source) -> None:
    green = altered([0.85, 1.2, 0.85], "green")
    output = enhance(green, {"mode": "color", "strength": 100})
    gains = output.extras["corrected"]["whiteBalance"]["gains"]
    assert gains[1] < 1 < gains[2]  # less green, more blue
    # Measured again, the bright pixels' channels have converged towards neutral ...
    cast_before = output.extras["measured"]["brightPixels"]
    cast_after = enhance(make_source(output.path), {"strength": 0}).extras["measured"]
    spread = [max(r) - min(r) for r in (cast_before, cast_after["brightPixels"])]
    assert spread[1] < spread[0] * 0.5
    # ... and the green excess over the original is mostly gone.
    original = channel_means(img.decode(photo.path))[1]
    before, after = (channel_means(img.decode(s.path))[1] for s in (green, output))
    assert abs(after - original) < abs(before - original) * 0.5


def test_a_soft_photo_is_sharpened(photo, tmp_path: Path, make_source, enhance) -> None:
    path = tmp_path / "soft.png"
    pyvips.Image.new_from_file(str(photo.path)).gaussblur(2).pngsave(str(path))
    output = enhance(make_source(path), {})
    assert output.extras["measured"]["sharpness"] < 100
    assert "sharpness" in output.extras["corrected"]


def test_strength_zero_changes_nothing(altered, enhance, img) -> None:
    dark = altered([0.45, 0.45, 0.45], "dark")
    output = enhance(dark, {"strength": 0})
    assert output.extras["summary"] == "nothing to correct"
    assert img.mad(img.decode(output.path), img.decode(dark.path)) < 0.01


def test_alpha_is_kept(transparent, enhance, img) -> None:
    output = enhance(transparent, {"strength": 100})
    pixels, original = img.decode(output.path), img.decode(transparent.path)
    assert np.array_equal(pixels[..., 3], original[..., 3])


@pytest.mark.parametrize("raw", [{"mode": "magic"}, {"strength": 101}, {"strength": -1}])
def test_it_rejects_out_of_range_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(image_enhancement.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_it_refuses_a_truncated_jpeg_and_two_files(truncated_jpeg, photo, ctx) -> None:
    with pytest.raises(ToolError) as caught:
        runner.execute(image_enhancement.TOOL, [truncated_jpeg], {}, ctx)
    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)
    with pytest.raises(ToolError) as caught:
        runner.execute(image_enhancement.TOOL, [photo, photo], {}, ctx)
    assert caught.value.code == "WRONG_INPUT_COUNT"
