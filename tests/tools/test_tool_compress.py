"""compress: quality, and the target-size search (met, searched, downscaled, unreachable)."""

from __future__ import annotations

import pytest

from tools import compress, imaging, runner
from tools.base import ToolError


def test_it_reencodes_at_the_default_quality(photo, run_tool, img) -> None:
    output = run_tool("compress", photo, {})
    assert output.extras["quality"] == 80
    assert output.extras["size"] == output.path.stat().st_size < photo.size
    assert img.mad(img.decode(output.path), img.decode(photo.path)) < 4


@pytest.mark.parametrize("target_kb", [12, 25])
def test_it_meets_a_target_size_by_searching_quality(target_kb: int, photo, run_tool, ctx) -> None:
    output = run_tool("compress", photo, {"targetSizeKB": target_kb})
    size = output.path.stat().st_size
    quality = output.extras["quality"]
    assert size <= target_kb * 1024
    assert output.extras == {
        "quality": quality,
        "size": size,
        "originalSize": photo.size,
        "width": 600,
        "height": 400,
        "targetSizeKB": target_kb,
        "targetMet": True,
    }
    assert 1 < quality < 80
    # The search found the best quality: one step up no longer fits.
    image = imaging.load(photo, 100)
    above = imaging.save(image, ctx.scratch_path("above.jpg"), "jpeg", quality=quality + 1)
    assert above.stat().st_size > target_kb * 1024


def test_a_generous_target_keeps_the_quality_ceiling(photo, run_tool) -> None:
    output = run_tool("compress", photo, {"targetSizeKB": 500, "quality": 70})
    assert output.extras["quality"] == 70


def test_it_downscales_when_quality_1_is_too_big(photo, run_tool, img) -> None:
    output = run_tool("compress", photo, {"targetSizeKB": 2})
    assert output.path.stat().st_size <= 2048
    assert output.extras["targetMet"] is True
    pixels = img.decode(output.path)
    assert pixels.shape[1] == output.extras["width"] < 600
    assert abs(pixels.shape[1] / pixels.shape[0] - 1.5) < 0.02  # aspect ratio kept


def test_an_unreachable_target_returns_the_smallest_file_flagged(photo, run_tool) -> None:
    output = run_tool("compress", photo, {"targetSizeKB": 0.05})
    assert output.extras["targetMet"] is False
    assert output.path.exists()
    assert output.extras["size"] == output.path.stat().st_size


def test_the_search_leaves_only_its_result(photo, run_tool, ctx) -> None:
    output = run_tool("compress", photo, {"targetSizeKB": 2})
    assert list(ctx.scratch_dir.iterdir()) == [output.path]


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_other_formats_meet_targets_too(fmt: str, transparent, run_tool, img) -> None:
    output = run_tool("compress", transparent, {"format": fmt, "targetSizeKB": 30})
    assert imaging.sniff(output.path) == fmt
    assert output.path.stat().st_size <= 30 * 1024
    assert img.decode(output.path).shape[2] == 4


def test_png_quality_means_palette_quantisation(transparent, run_tool) -> None:
    lossless = run_tool("compress", transparent, {"quality": 100}).path.stat().st_size
    palette = run_tool("compress", transparent, {"quality": 60}).path.stat().st_size
    assert palette < lossless < transparent.size * 1.05


@pytest.mark.parametrize(
    "raw", [{"quality": 0}, {"quality": 101}, {"targetSizeKB": 0}, {"targetSizeKB": -5}]
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(compress.TOOL, raw)
    assert caught.value.code == "INVALID_SETTINGS"


def test_target_size_is_also_accepted_as_target_size_kb():
    from tools import compress

    settings = compress.TOOL.parse_settings({"targetSizeKb": 40})
    assert settings.targetSizeKB == 40
