"""sharpening: every mode adds edge contrast, amount and threshold bound it, alpha stays."""

from __future__ import annotations

import numpy as np
import pytest

from tools import runner, sharpening
from tools.base import ToolError


def edges(pixels: np.ndarray) -> float:
    """Mean absolute horizontal + vertical gradient of the luma: high-frequency energy."""
    luma = pixels[..., :3].mean(axis=2)
    return float(np.abs(np.diff(luma, axis=0)).mean() + np.abs(np.diff(luma, axis=1)).mean())


@pytest.mark.parametrize("mode", ["adaptive", "unsharp", "highpass"])
def test_every_mode_sharpens_without_changing_the_picture(mode: str, photo, run_tool, img) -> None:
    output = run_tool("sharpening", photo, {"mode": mode, "format": "png"})
    original, sharpened = img.decode(photo.path), img.decode(output.path)
    assert edges(sharpened) > edges(original) * 1.2
    assert img.ssim(sharpened, original) > 0.95
    assert abs(sharpened.mean() - original.mean()) < 1.5


@pytest.mark.parametrize("mode", ["unsharp", "highpass"])
def test_amount_zero_changes_nothing(mode: str, photo, run_tool, img) -> None:
    output = run_tool("sharpening", photo, {"mode": mode, "amount": 0, "format": "png"})
    assert img.mad(img.decode(output.path), img.decode(photo.path)) < 0.01


def test_more_amount_sharpens_more(photo, run_tool, img) -> None:
    gentle = run_tool("sharpening", photo, {"mode": "unsharp", "amount": 50, "format": "png"})
    strong = run_tool("sharpening", photo, {"mode": "unsharp", "amount": 300, "format": "png"})
    assert edges(img.decode(strong.path)) > edges(img.decode(gentle.path)) * 1.3


def test_a_threshold_leaves_small_differences_alone(photo, run_tool, img) -> None:
    original = img.decode(photo.path)
    changed = []
    for threshold in (0, 25):
        settings = {"mode": "unsharp", "amount": 200, "threshold": threshold, "format": "png"}
        pixels = img.decode(run_tool("sharpening", photo, settings).path)
        changed.append((np.abs(pixels - original).max(axis=2) > 0).mean())
    assert changed[1] < changed[0] / 2


def test_alpha_is_kept(transparent, run_tool, img) -> None:
    output = run_tool("sharpening", transparent, {"mode": "highpass", "amount": 150})
    pixels, original = img.decode(output.path), img.decode(transparent.path)
    assert np.array_equal(pixels[..., 3], original[..., 3])


@pytest.mark.parametrize(
    "raw",
    [{"mode": "smart"}, {"amount": 501}, {"amount": -1}, {"radius": 0}, {"threshold": 256}],
)
def test_it_rejects_out_of_range_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(sharpening.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
