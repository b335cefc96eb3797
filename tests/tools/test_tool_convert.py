"""convert: every output format, by sniffed format and pixel similarity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import pyvips

from tools import convert, imaging, runner
from tools.base import ToolError

# Largest acceptable mean absolute difference per format at default quality.
TOLERANCE = {"jpeg": 4, "png": 0.01, "webp": 4, "avif": 5, "tiff": 0.01, "gif": 8, "heif": 5}


@pytest.mark.parametrize("fmt", list(TOLERANCE))
def test_it_writes_each_format(fmt: str, transparent, run_tool, img) -> None:
    output = run_tool("convert", transparent, {"format": fmt})
    assert imaging.sniff(output.path) == fmt
    assert output.media_type == imaging.media_type(fmt)
    assert output.filename == f"image{imaging.extension(fmt)}"
    pixels, original = img.decode(output.path), img.decode(transparent.path)
    assert pixels.shape[:2] == (300, 451)
    opaque = original[..., 3] == 255  # colour under full alpha; edges differ by premultiply
    assert img.mad(pixels[opaque][:, None], original[opaque][:, None]) < TOLERANCE[fmt]
    if fmt == "jpeg":
        assert pixels.shape[2] == 3 and pixels[0, 0].min() > 245  # flattened onto white
    else:
        assert pixels.shape[2] == 4 and pixels[0, 0, 3] < 5  # alpha kept
    assert ("pillow-heif" in output.engine) == (fmt == "heif")


def test_it_accepts_common_aliases() -> None:
    assert runner.validate_settings(convert.TOOL, {"format": "JPG"}).format == "jpeg"  # type: ignore[attr-defined]
    assert runner.validate_settings(convert.TOOL, {"format": "heic"}).format == "heif"  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw", [{}, {"format": "bmp"}, {"format": "png", "quality": 0}])
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(convert.TOOL, raw)
    assert caught.value.code == "INVALID_SETTINGS"


def test_quality_changes_the_size(photo, run_tool) -> None:
    low = run_tool("convert", photo, {"format": "webp", "quality": 20}).path
    high = run_tool("convert", photo, {"format": "webp", "quality": 95}).path
    assert low.stat().st_size < high.stat().st_size


def test_it_drops_exif_but_applies_orientation(photo_rotated, run_tool, img) -> None:
    output = run_tool("convert", photo_rotated, {"format": "png"})
    image = pyvips.Image.new_from_file(str(output.path))
    assert (image.width, image.height) == (600, 400)
    assert image.get_typeof("exif-data") == 0


def _noise_png(tmp_path, make_source, side: int = 1024):
    import pyvips

    path = tmp_path / "noise.png"
    pyvips.Image.gaussnoise(side, side).cast("uchar").bandjoin([128, 64]).pngsave(str(path))
    return make_source(path)


def test_a_slow_encode_reports_its_real_progress(tmp_path, make_source, ctx) -> None:
    """PNG encodes row by row as libvips computes them: the job shows how far it has got."""
    from tools import registry, runner

    seen: list[tuple[float, str]] = []
    ctx.progress = lambda percent, message="": seen.append((percent, message))
    noisy = _noise_png(tmp_path, make_source, side=2048)  # ~0.4 s of zlib on noise
    runner.execute(registry.get("convert"), [noisy], {"format": "png"}, ctx)

    encoding = [(p, m) for p, m in seen if m.startswith("encoding png:")]
    percents = [int(m.split(": ")[1].removesuffix(" %")) for _, m in encoding]
    assert len(percents) >= 2 and percents == sorted(percents) and percents[-1] >= 75, seen
    assert all(70 <= p <= 99 for p, _ in encoding)
    assert seen[-1] == (100, "done")


def test_an_unwatched_encode_connects_no_progress_signal(tmp_path, make_source, ctx) -> None:
    """Nobody follows an inline job: libvips' per-tile callbacks would only take the GIL."""
    from tools import registry, runner

    seen: list[tuple[float, str]] = []
    ctx.progress = lambda percent, message="": seen.append((percent, message))
    ctx.watched = False
    noisy = _noise_png(tmp_path, make_source, side=2048)
    runner.execute(registry.get("convert"), [noisy], {"format": "png"}, ctx)

    assert [m for _, m in seen if m.startswith("encoding png")] == ["encoding png"], seen


def test_an_encoder_that_reports_nothing_is_not_given_a_percentage(
    tmp_path, make_source, ctx
) -> None:
    """AVIF takes the whole image and then encodes for seconds without a signal: libvips'
    percentage counts computed pixels, so it must not be shown as the encode's."""
    from tools import registry, runner

    seen: list[tuple[float, str]] = []
    ctx.progress = lambda percent, message="": seen.append((percent, message))
    runner.execute(
        registry.get("convert"), [_noise_png(tmp_path, make_source)], {"format": "avif"}, ctx
    )

    assert not [m for _, m in seen if m.startswith("encoding avif:")], seen
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)
    assert seen[-1] == (100, "done")


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            "png",
            [
                (70, "encoding png: 0 %"),
                (81.6, "encoding png: 40 %"),
                (98.13, "encoding png: 97 %"),
                (99, "encoding png: 100 %"),
            ],
        ),
        (
            "avif",
            [
                (70, "computing pixels: 0 %"),
                (75.8, "computing pixels: 40 %"),
                (84.06, "computing pixels: 97 %"),
                (84.5, "computing pixels: 100 %"),
                (84.5, "encoding avif"),
            ],
        ),
    ],
)
def test_the_encoding_watch_says_what_its_percentage_counts(fmt, expected, ctx) -> None:
    seen: list[tuple[float, str]] = []
    ctx.progress = lambda percent, message="": seen.append((round(percent, 2), message))
    watch = imaging.encoding_watch(ctx, fmt)
    assert [watch(percent) for percent in (0, 3, 40, 97, 100, 100)] == [False] * 6
    assert seen == expected


def test_a_cancel_stops_a_running_encode(tmp_path, make_source, ctx) -> None:
    from tools import registry, runner
    from tools.base import Cancelled

    calls: list[float] = []

    def progress(percent: float, message: str = "") -> None:
        calls.append(percent)

    ctx.progress = progress
    ctx.is_cancelled = lambda: any(p > 75 for p in calls)  # cancelled mid-encode
    tool = registry.get("convert")
    with pytest.raises(Cancelled):
        runner.execute(tool, [_noise_png(tmp_path, make_source)], {"format": "avif"}, ctx)
    assert max(calls) < 99  # it stopped before the end (signals come as often as libvips sends)
    assert not list(ctx.scratch_dir.glob("*.avif"))  # no half-written result left


def test_the_encode_always_reports_its_end(tmp_path) -> None:
    """libvips' progress signals stop when its threads have taken the last tile, which a
    busy machine reaches before 100 %: save() reports the end itself."""
    from tools import encode

    seen: list[int] = []
    image = pyvips.Image.black(64, 64, bands=3)
    encode.save(image, tmp_path / "out.png", "png", watch=lambda p: bool(seen.append(p)))
    assert seen[-1] == 100 and (tmp_path / "out.png").exists()


def test_a_cancel_seen_after_the_last_pixel_still_cancels(tmp_path) -> None:
    """A kill reaches libvips only while it computes pixels: a cancel seen at 100 % (after
    them, as the encoder runs) must not deliver the file."""
    from tools import encode
    from tools.base import Cancelled

    image = pyvips.Image.black(64, 64, bands=3)
    with pytest.raises(Cancelled):
        encode.save(image, tmp_path / "out.avif", "avif", watch=lambda p: p >= 100)
    assert not (tmp_path / "out.avif").exists()


# libvips' operation cache hands the same image to every identical pipeline: a save that
# watches it must not leave its progress handler (or its kill) on that shared image.
_SAVES_OF_ONE_CACHED_IMAGE = """
import sys, pathlib, pyvips
from tools import encode
from tools.base import Cancelled
out = pathlib.Path(sys.argv[1])
for i in range(40):
    image = pyvips.Image.black(64, 64, bands=3)  # the same cached image each time
    try:
        encode.save(image, out / "out.avif", "avif", watch=lambda p: p >= 100)
        sys.exit(f"save {i} was not cancelled")
    except Cancelled:
        pass
    seen = []
    encode.save(image, out / "out.png", "png", watch=lambda p: bool(seen.append(p)))
    if seen[-1] != 100 or not (out / "out.png").exists():
        sys.exit(f"save {i}: an earlier cancel stopped it, or its progress was lost: {seen}")
"""


def test_watched_saves_of_one_cached_image_neither_crash_nor_cancel_each_other(tmp_path) -> None:
    """Before the fix the second or third save aborted the process ("ffi.from_handle()
    detected that the address passed points to garbage"), so it runs in a child."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _SAVES_OF_ONE_CACHED_IMAGE, str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
