"""color-adjustments: each setting moves the pixel statistics the way it promises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import pyvips

from tools import color_adjustments, runner
from tools.base import Source, ToolError


@pytest.fixture
def adjusted(photo: Source, run_tool, img) -> Callable[..., np.ndarray]:
    """The photo's pixels after the tool, as lossless PNG (so statistics are exact)."""

    def adjust(**settings: object) -> np.ndarray:
        output = run_tool("color-adjustments", photo, {**settings, "format": "png"})
        return img.decode(output.path)

    return adjust


def chroma(pixels: np.ndarray) -> np.ndarray:
    """Per-pixel colourfulness: spread of the RGB channels."""
    return pixels[..., :3].max(axis=2) - pixels[..., :3].min(axis=2)


def test_defaults_change_nothing(photo, adjusted, img) -> None:
    assert img.mad(adjusted(), img.decode(photo.path)) == 0


@pytest.mark.parametrize("setting", ["brightness", "exposure"])
def test_brightness_and_exposure_raise_the_mean(setting: str, adjusted) -> None:
    base = adjusted().mean()
    up = {"brightness": 30, "exposure": 1}[setting]
    assert adjusted(**{setting: up}).mean() > base + 20
    assert adjusted(**{setting: -up}).mean() < base - 20


def test_contrast_spreads_the_values(adjusted) -> None:
    base = adjusted().std()
    assert adjusted(contrast=50).std() > base * 1.1
    assert adjusted(contrast=-50).std() < base * 0.85


def test_saturation_scales_chroma_down_to_grey(adjusted) -> None:
    base = chroma(adjusted()).mean()
    assert chroma(adjusted(saturation=50)).mean() > base * 1.2
    assert chroma(adjusted(saturation=-100)).max() <= 1


def test_vibrance_lifts_muted_colours_more_than_vivid_ones(adjusted) -> None:
    base, boosted = chroma(adjusted()), chroma(adjusted(vibrance=80))
    muted, vivid = (base > 10) & (base < 40), base > 120
    assert (boosted[muted] / base[muted]).mean() > (boosted[vivid] / base[vivid]).mean() + 0.1


def test_temperature_warms_and_cools(adjusted) -> None:
    def warmth(pixels: np.ndarray) -> float:
        return float((pixels[..., 0] - pixels[..., 2]).mean())

    base = warmth(adjusted())
    assert warmth(adjusted(temperature=60)) > base + 10
    assert warmth(adjusted(temperature=-60)) < base - 10


def test_sharpness_adds_high_frequencies(adjusted) -> None:
    def edges(pixels: np.ndarray) -> float:
        return float(np.abs(np.diff(pixels[..., :3].mean(axis=2), axis=1)).mean())

    assert edges(adjusted(sharpness=80)) > edges(adjusted()) * 1.2


def test_grayscale_has_equal_channels(adjusted) -> None:
    pixels = adjusted(effects=["grayscale"])
    assert np.array_equal(pixels[..., 0], pixels[..., 1])
    assert np.array_equal(pixels[..., 1], pixels[..., 2])


def test_sepia_is_warm_toned(adjusted) -> None:
    pixels = adjusted(effects="sepia")
    assert (pixels[..., 0] >= pixels[..., 1]).mean() > 0.99
    assert (pixels[..., 1] >= pixels[..., 2]).mean() > 0.99


def test_invert_twice_is_the_original(photo, tmp_path: Path, run_tool, make_source, img) -> None:
    once = run_tool("color-adjustments", photo, {"effects": ["invert"], "format": "png"})
    assert img.decode(once.path).mean() == pytest.approx(
        255 - img.decode(photo.path).mean(), abs=0.5
    )
    twice = run_tool("color-adjustments", make_source(once.path), {"effects": ["invert"]})
    assert img.mad(img.decode(twice.path), img.decode(photo.path)) < 0.01


def test_vignette_darkens_the_corners_not_the_centre(adjusted) -> None:
    base, vignetted = adjusted(), adjusted(effects=["vignette"], vignetteStrength=80)
    assert vignetted[:30, :30].mean() < base[:30, :30].mean() * 0.4
    assert vignetted[190:210, 290:310].mean() == pytest.approx(base[190:210, 290:310].mean(), abs=1)


def test_alpha_is_preserved(transparent, run_tool, img) -> None:
    settings = {"brightness": 20, "saturation": 30, "effects": ["sepia", "vignette"]}
    output = run_tool("color-adjustments", transparent, settings)
    pixels, original = img.decode(output.path), img.decode(transparent.path)
    assert output.media_type == "image/png"
    assert np.array_equal(pixels[..., 3], original[..., 3])


def test_16_bit_images_stay_16_bit(tmp_path: Path, make_source, run_tool) -> None:
    ramp = (pyvips.Image.xyz(64, 16)[0] * 700).cast("ushort")
    ramp.bandjoin([ramp, ramp]).copy(interpretation="rgb16").pngsave(str(tmp_path / "deep.png"))
    output = run_tool("color-adjustments", make_source(tmp_path / "deep.png"), {"exposure": 0.5})
    result = pyvips.Image.new_from_file(str(output.path))
    values = result.numpy()
    assert result.format == "ushort" and values.mean() > ramp.avg()
    assert (values % 257 != 0).any()  # not 8-bit values scaled up


def test_a_cmyk_photo_comes_out_srgb_with_an_srgb_profile(
    photo, tmp_path: Path, make_source, run_tool, img
) -> None:
    cmyk = pyvips.Image.new_from_file(str(photo.path)).icc_transform("cmyk", input_profile="srgb")
    cmyk.jpegsave(str(tmp_path / "cmyk.jpg"))
    output = run_tool("color-adjustments", make_source(tmp_path / "cmyk.jpg"), {"contrast": 5})
    result = pyvips.Image.new_from_file(str(output.path))
    assert (result.interpretation, result.bands) == ("srgb", 3)
    assert len(result.get("icc-profile-data")) < 10_000  # sRGB's, not the 1 MB CMYK one
    assert img.ssim(img.decode(output.path), img.decode(photo.path)) > 0.9


@pytest.mark.parametrize(
    "raw",
    [
        {"brightness": 101},
        {"contrast": -101},
        {"exposure": 6},
        {"sharpness": -1},
        {"effects": ["blur"]},
        {"vignetteStrength": 101},
        {"format": "bmp"},
    ],
)
def test_it_rejects_out_of_range_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(color_adjustments.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
