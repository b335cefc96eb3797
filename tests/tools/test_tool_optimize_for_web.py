"""optimize-for-web: the smallest candidate wins, width is capped, alpha and metadata."""

from __future__ import annotations

import pytest
import pyvips

from tools import imaging, optimize_for_web, runner
from tools.base import ToolError


def test_auto_keeps_the_smallest_candidate_and_says_which(photo, run_tool, img, ctx) -> None:
    output = run_tool("optimize-for-web", photo, {})
    sizes = output.extras["candidates"]
    assert set(sizes) == {"jpeg", "webp", "avif"}
    winner = output.extras["format"]
    assert sizes[winner] == min(sizes.values()) == output.path.stat().st_size
    assert imaging.sniff(output.path) == winner
    assert output.media_type == imaging.media_type(winner)
    assert list(ctx.scratch_dir.iterdir()) == [output.path]  # the losers are deleted
    assert img.ssim(img.decode(output.path), img.decode(photo.path)) > 0.9


def test_it_scales_down_to_max_width_and_never_up(photo, run_tool, img) -> None:
    small = run_tool("optimize-for-web", photo, {"maxWidthPx": 300, "format": "webp"})
    assert img.decode(small.path).shape[:2] == (200, 300)
    assert (small.extras["width"], small.extras["height"]) == (300, 200)
    same = run_tool("optimize-for-web", photo, {"maxWidthPx": 5000, "format": "webp"})
    assert img.decode(same.path).shape[:2] == (400, 600)


def test_transparent_images_only_compete_in_alpha_formats(transparent, run_tool, img) -> None:
    output = run_tool("optimize-for-web", transparent, {"maxWidthPx": 200})
    assert set(output.extras["candidates"]) == {"webp", "avif"}
    pixels = img.decode(output.path)
    assert pixels.shape[2] == 4 and pixels[0, 0, 3] == 0


def test_a_fixed_format_encodes_just_that_one(photo, run_tool) -> None:
    output = run_tool("optimize-for-web", photo, {"format": "jpeg", "quality": 60})
    assert output.extras["candidates"].keys() == {"jpeg"}
    head = pyvips.Image.new_from_file(str(output.path))
    assert head.get("interlaced") == 1  # progressive, for the web


def test_metadata_is_stripped_unless_asked_to_keep(photo, run_tool) -> None:
    stripped = run_tool("optimize-for-web", photo, {"format": "jpeg"})
    assert "exif-data" not in pyvips.Image.new_from_file(str(stripped.path)).get_fields()
    kept = run_tool("optimize-for-web", photo, {"format": "jpeg", "stripMetadata": False})
    assert "exif-ifd3-GPSLatitude" in pyvips.Image.new_from_file(str(kept.path)).get_fields()


@pytest.mark.parametrize(
    "raw", [{"format": "gif"}, {"quality": 0}, {"maxWidthPx": 0}, {"maxWidthPx": 20000}]
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(optimize_for_web.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
