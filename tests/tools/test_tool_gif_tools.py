"""gif-tools: every action keeps the animation (frames, delays, loop) or extracts it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import pyvips
from PIL import Image

from tools import registry, runner
from tools.base import OutputKind, ToolError

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
DELAYS = [100, 200, 300, 400]


@pytest.fixture
def animated(tmp_path, make_source):
    """A 40x30 GIF of four solid frames (red, green, blue, yellow), 100..400 ms, looping."""
    frames = [Image.new("RGB", (40, 30), c) for c in COLOURS]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=DELAYS, loop=0)
    return make_source(path)


def frames_of(path: Path) -> tuple[list[np.ndarray], list[int], pyvips.Image]:
    image = pyvips.Image.new_from_file(str(path), n=-1)
    height = image.get("page-height")
    pixels = image.numpy()
    count = image.height // height
    frames = [pixels[i * height : (i + 1) * height] for i in range(count)]
    return frames, list(image.get("delay")), image


def centre_colours(frames: list[np.ndarray]) -> list[list[int]]:
    return [[int(v) for v in f[f.shape[0] // 2, f.shape[1] // 2, :3]] for f in frames]


def test_optimize_keeps_every_frame_and_delay(run_tool, animated):
    out = run_tool("gif-tools", animated, {"action": "optimize", "colors": 16})
    frames, delays, image = frames_of(out.path)
    assert out.media_type == "image/gif" and image.get("n-pages") == 4
    assert delays == DELAYS and image.get("loop") == 0
    assert centre_colours(frames) == [list(c) for c in COLOURS]


def test_reverse_plays_the_frames_backwards(run_tool, animated):
    frames, delays, _ = frames_of(run_tool("gif-tools", animated, {"action": "reverse"}).path)
    assert centre_colours(frames) == [list(c) for c in COLOURS[::-1]]
    assert delays == DELAYS[::-1]


def test_speed_2_halves_the_delays(run_tool, animated):
    out = run_tool("gif-tools", animated, {"action": "speed", "factor": 2})
    frames, delays, _ = frames_of(out.path)
    assert delays == [50, 100, 150, 200] and len(frames) == 4
    slow = run_tool("gif-tools", animated, {"action": "speed", "factor": 0.5})
    assert frames_of(slow.path)[1] == [200, 400, 600, 800]
    fastest = run_tool("gif-tools", animated, {"action": "speed", "factor": 10})
    assert frames_of(fastest.path)[1] == [20, 20, 30, 40]  # never under 20 ms


def test_resize_scales_every_frame(run_tool, animated):
    out = run_tool("gif-tools", animated, {"action": "resize", "width": 20})
    frames, delays, image = frames_of(out.path)
    assert image.width == 20 and image.get("page-height") == 15 and image.get("n-pages") == 4
    assert centre_colours(frames) == [list(c) for c in COLOURS] and delays == DELAYS
    both = frames_of(
        run_tool("gif-tools", animated, {"action": "resize", "width": 10, "height": 50}).path
    )
    assert both[2].width == 10 and both[2].get("page-height") == 50


def test_rotate_turns_every_frame(run_tool, animated):
    out = run_tool("gif-tools", animated, {"action": "rotate", "angle": 90})
    frames, _, image = frames_of(out.path)
    assert (image.width, image.get("page-height"), len(frames)) == (30, 40, 4)
    tilted = frames_of(run_tool("gif-tools", animated, {"action": "rotate", "angle": 30}).path)
    assert tilted[2].width > 40 and tilted[2].get("n-pages") == 4


def test_add_text_draws_on_every_frame(run_tool, animated, tmp_path):
    settings = {"action": "add-text", "text": "Hi", "fontSize": 20, "color": "#000000"}
    settings["position"] = "center"
    out = run_tool("gif-tools", animated, settings)
    frames, delays, _ = frames_of(out.path)
    assert len(frames) == 4 and delays == DELAYS
    for frame, c in zip(frames, COLOURS, strict=True):
        dark = (frame[..., :3].sum(axis=2) < 60).mean()
        assert 0.02 < dark < 0.5  # black text over a bright colour
        assert list(frame[1, 1, :3]) == list(c)  # the corner is untouched
    assert "Pango" in out.engine


def test_extract_frames_zips_pngs(run_tool, animated):
    out = run_tool("gif-tools", animated, {"action": "extract-frames"})
    assert out.kind == OutputKind.DOCUMENT and out.filename.endswith(".zip")
    with zipfile.ZipFile(out.path) as archive:
        names = archive.namelist()
        assert names == [f"frame-00{i}.png" for i in range(1, 5)]
        with Image.open(io.BytesIO(archive.read(names[2]))) as im:
            assert im.size == (40, 30) and im.convert("RGB").getpixel((5, 5)) == COLOURS[2]
    assert out.extras["delays"] == DELAYS


def test_an_animated_webp_stays_an_animated_webp(run_tool, animated, tmp_path, make_source):
    path = tmp_path / "anim.webp"
    pyvips.Image.new_from_file(str(animated.path), n=-1).webpsave(str(path), lossless=True)
    out = run_tool("gif-tools", make_source(path), {"action": "reverse"})
    frames, delays, image = frames_of(out.path)
    assert out.media_type == "image/webp" and image.get("n-pages") == 4
    got = np.array(centre_colours(frames))
    assert np.abs(got - np.array(COLOURS[::-1])).max() <= 3  # webp is lossy by default
    assert delays == DELAYS[::-1]


def test_a_still_image_is_one_frame(run_tool, photo):
    out = run_tool("gif-tools", photo, {"action": "resize", "width": 60})
    image = pyvips.Image.new_from_file(str(out.path), n=-1)
    assert out.media_type == "image/gif" and (image.width, image.height) == (60, 40)
    assert image.get("n-pages") == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"action": "explode"},
        {"action": "resize"},
        {"action": "resize", "width": 0},
        {"action": "speed", "factor": 0},
        {"action": "speed", "factor": 11},
        {"action": "add-text"},
        {"action": "add-text", "text": "x", "color": "blue"},
        {"action": "add-text", "text": "x", "position": "custom"},
        {"action": "resize", "width": 100, "colors": 8},
        {"action": "rotate", "angle": 400},
        {"action": "optimize", "colors": 1},
    ],
)
def test_bad_settings_are_400(run_tool, animated, bad):
    with pytest.raises(ToolError) as err:
        run_tool("gif-tools", animated, bad)
    assert err.value.status == 400


def test_a_gif_cut_inside_its_first_frame_is_422(run_tool, animated, tmp_path, make_source):
    # Cut between frames, libvips (like browsers) keeps the complete frames.
    path = tmp_path / "cut.gif"
    path.write_bytes(animated.path.read_bytes()[:100])
    with pytest.raises(ToolError) as err:
        run_tool("gif-tools", make_source(path), {"action": "reverse"})
    assert err.value.status == 422


def test_a_resize_whose_frames_together_pass_the_pixel_limit_is_refused_first(animated, ctx):
    """Four frames at 4096x4096 are 67 MP: over a 50 MP limit, refused before any work
    (one frame alone would fit)."""
    tool = registry.get("gif-tools")
    assert tool is not None
    settings = runner.validate_settings(tool, {"action": "resize", "width": 4096, "height": 4096})

    with pytest.raises(ToolError) as caught:
        runner.execute(tool, [animated], settings, ctx.derive(max_megapixels=50))

    assert (caught.value.code, caught.value.status) == ("IMAGE_TOO_LARGE", 413)
    assert "all frames" in caught.value.message
