"""noise-removal: added noise goes, the picture stays, every tier runs, alpha is kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from tools import noise_removal, runner
from tools.base import Context, Output, Source, ToolError


@pytest.fixture
def run_tool(ctx: Context):
    """Run noise-removal the way the apps do (settings validated first)."""

    def run(_tool_id: str, source: Source, settings: dict) -> Output:
        parsed = runner.validate_settings(noise_removal.TOOL, settings)
        return runner.execute(noise_removal.TOOL, [source], parsed, ctx)

    return run


@pytest.fixture
def noisy(photo, tmp_path: Path, make_source, img):
    """The photo plus Gaussian noise (sigma 15), as a lossless PNG; and the clean pixels."""
    clean = img.decode(photo.path)
    rng = np.random.default_rng(7)
    pixels = np.clip(clean + rng.normal(0, 15, clean.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "noisy.png"
    pyvips.Image.new_from_array(pixels).copy(interpretation="srgb").pngsave(str(path))
    return make_source(path), clean


@pytest.fixture
def tiers(noisy, run_tool, img) -> dict[str, tuple[float, float, object]]:
    """(mean difference to the clean photo, SSIM to it, output) per tier."""
    source, clean = noisy
    found = {}
    for tier in ("fast", "balanced", "best"):
        output = run_tool("noise-removal", source, {"quality": tier, "format": "png"})
        pixels = img.decode(output.path)
        found[tier] = (img.mad(pixels, clean), img.ssim(pixels, clean), output)
    return found


def test_every_tier_removes_noise_and_keeps_the_picture(noisy, tiers, img) -> None:
    source, clean = noisy
    before = img.mad(img.decode(source.path), clean)
    for difference, similarity, _output in tiers.values():
        assert difference < before * 0.65
        assert similarity > 0.985


def test_best_is_at_least_as_good_as_balanced(tiers) -> None:
    assert tiers["best"][0] <= tiers["balanced"][0]


def test_it_names_the_real_algorithm_and_what_it_measured(tiers) -> None:
    fast, balanced = tiers["fast"][2], tiers["balanced"][2]
    assert "bilateralFilter" in fast.engine and "OpenCV" in fast.engine
    assert "fastNlMeansDenoisingColored" in balanced.engine
    assert 10 < balanced.extras["noiseSigma"] < 20  # the added noise is sigma 15
    assert balanced.extras["h"] == pytest.approx(balanced.extras["noiseSigma"], abs=0.01)


def test_strength_zero_changes_nothing(photo, run_tool, img) -> None:
    settings = {"strength": 0, "format": "png"}
    output = run_tool("noise-removal", photo, settings)
    assert img.mad(img.decode(output.path), img.decode(photo.path)) < 0.01


def test_more_preserve_detail_stays_closer_to_the_input(noisy, run_tool, img) -> None:
    source, _clean = noisy
    original = img.decode(source.path)
    changes = []
    for keep in (0, 100):
        settings = {"quality": "fast", "preserveDetail": keep, "format": "png"}
        changes.append(
            img.mad(img.decode(run_tool("noise-removal", source, settings).path), original)
        )
    assert changes[1] < changes[0]


def test_alpha_is_kept(transparent, run_tool, img) -> None:
    output = run_tool("noise-removal", transparent, {"quality": "balanced"})
    pixels, original = img.decode(output.path), img.decode(transparent.path)
    assert np.array_equal(pixels[..., 3], original[..., 3])


def test_sixteen_bit_stays_sixteen_bit(photo, tmp_path: Path, make_source, run_tool) -> None:
    path = tmp_path / "deep.png"
    pyvips.Image.new_from_file(str(photo.path)).colourspace("rgb16").pngsave(str(path))
    output = run_tool("noise-removal", make_source(path), {"quality": "fast"})
    assert pyvips.Image.new_from_file(str(output.path)).format == "ushort"


@pytest.mark.parametrize(
    "raw",
    [{"quality": "ultra"}, {"strength": 101}, {"preserveDetail": -1}, {"colorNoise": 200}],
)
def test_it_rejects_out_of_range_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(noise_removal.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_it_refuses_a_truncated_jpeg_and_two_files(truncated_jpeg, photo, ctx) -> None:
    with pytest.raises(ToolError) as caught:
        runner.execute(noise_removal.TOOL, [truncated_jpeg], {}, ctx)
    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)
    with pytest.raises(ToolError) as caught:
        runner.execute(noise_removal.TOOL, [photo, photo], {}, ctx)
    assert caught.value.code == "WRONG_INPUT_COUNT"


@pytest.mark.parametrize("tier", ["balanced", "best"])
def test_strips_give_exactly_the_whole_image_result(tier, monkeypatch) -> None:
    """Non-local means runs in strips (progress, cancel): with the margins it must equal
    OpenCV's one call on the whole image, pixel for pixel."""
    import cv2

    rng = np.random.default_rng(7)
    rgb = np.clip(rng.normal(128, 30, (150, 90, 3)), 0, 255).astype(np.uint8)
    patch, search = noise_removal._WINDOWS[tier]
    whole = cv2.fastNlMeansDenoisingColored(rgb, None, 12.0, 8.0, patch, search)
    monkeypatch.setattr(noise_removal, "_STRIP_ROWS", 20)  # 8 strips
    seen: list[tuple[int, int]] = []

    strips = noise_removal._nlm_in_strips(rgb, 12.0, 8.0, tier, lambda d, t: seen.append((d, t)))

    assert np.array_equal(strips, whole)
    assert seen == [(min(r + 20, 150), 150) for r in range(0, 150, 20)]


def test_a_long_denoise_reports_rows_and_stops_on_cancel(photo, ctx, monkeypatch) -> None:
    from tools import registry
    from tools.base import Cancelled

    monkeypatch.setattr(noise_removal, "_STRIP_ROWS", 16)
    messages: list[str] = []
    ctx.progress = lambda percent, message="": messages.append(message)
    ctx.is_cancelled = lambda: sum("row" in m for m in messages) >= 2
    tool = registry.get("noise-removal")

    with pytest.raises(Cancelled):
        runner.execute(tool, [photo], {"quality": "best"}, ctx)
    rows = [m for m in messages if "row" in m]
    # 400 rows in at most 16 strips: 25 rows each
    assert rows == ["denoising (best): row 25/400", "denoising (best): row 50/400"]
