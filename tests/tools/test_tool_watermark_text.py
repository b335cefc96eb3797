"""watermark-text: Pango-set text blended at an anchor, rotated, or tiled."""

from __future__ import annotations

import numpy as np
import pytest

from tools.base import ToolError

GREY = (90, 90, 90)


def changed(img, output, base: tuple[int, ...] = GREY) -> np.ndarray:
    """Mask of pixels that differ from the flat base colour."""
    pixels = img.decode(output.path)[..., :3]
    return np.abs(pixels - np.array(base[:3], dtype=np.float32)).max(axis=2) > 2


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_text_lands_at_the_bottom_right_anchor_and_nowhere_else(run_tool, solid_image, img):
    base = solid_image(400, 300, GREY)
    out = run_tool("watermark-text", base, {"text": "Pixelsmith", "fontSize": 30, "margin": 20})

    left, top, right, bottom = bbox(changed(img, out))
    assert 380 - 5 <= right <= 380 and 280 - 10 <= bottom <= 280
    assert left > 150 and top > 230  # nothing drawn in the rest of the image
    assert "Pango" in out.engine and "libvips" in out.engine


def test_opacity_blends_the_colour_as_computed(run_tool, solid_image, img):
    base = solid_image(300, 200, (0, 0, 0))
    settings = {"text": "█", "fontSize": 80, "color": "#ffffff", "opacity": 50}
    pixels = img.decode(run_tool("watermark-text", base, settings).path)

    # Fully covered glyph pixels are exactly half-way between black and white.
    assert pixels.max() == pytest.approx(255 * 0.5, abs=1.5)


def test_the_colour_alpha_multiplies_the_opacity(run_tool, solid_image, img):
    base = solid_image(300, 200, (0, 0, 0))
    settings = {"text": "█", "fontSize": 80, "color": "#ff000080", "opacity": 100}
    pixels = img.decode(run_tool("watermark-text", base, settings).path)

    assert pixels[..., 0].max() == pytest.approx(255 * 128 / 255, abs=1.5)
    assert pixels[..., 1].max() == 0


def test_tile_covers_the_whole_image(run_tool, solid_image, img):
    base = solid_image(600, 400, GREY)
    out = run_tool("watermark-text", base, {"text": "© 2025", "fontSize": 24, "tile": True})

    mask = changed(img, out)
    for rows in (slice(0, 200), slice(200, 400)):
        for cols in (slice(0, 300), slice(300, 600)):
            assert mask[rows, cols].mean() > 0.02


def test_rotation_by_90_turns_a_line_upright(run_tool, solid_image, img):
    base = solid_image(400, 400, GREY)
    out = run_tool(
        "watermark-text", base, {"text": "Pixelsmith", "rotation": 90, "position": "center"}
    )
    left, top, right, bottom = bbox(changed(img, out))
    assert bottom - top > 3 * (right - left)


def test_unicode_and_markup_characters_are_drawn_literally(run_tool, solid_image, img):
    base = solid_image(500, 120, GREY)
    settings = {"text": "Привет Ωμέγα <b>&amp;", "fontSize": 24, "position": "custom"}
    settings |= {"x": 10, "y": 10, "opacity": 100}
    mask = changed(img, run_tool("watermark-text", base, settings))

    left, _, right, _ = bbox(mask)
    assert left < 20 and right > 250  # a long line: the tags were not eaten as markup


def test_a_custom_position_places_the_text_at_x_y(run_tool, solid_image, img):
    base = solid_image(400, 300, GREY)
    settings = {"text": "X", "fontSize": 40, "position": "custom", "x": 100, "y": 150}
    left, top, _, _ = bbox(changed(img, run_tool("watermark-text", base, settings)))
    assert 100 <= left <= 106 and 150 <= top <= 165


@pytest.mark.parametrize(
    "bad",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "a", "font": "Comic Sans"},
        {"text": "a", "color": "reddish"},
        {"text": "a", "opacity": 101},
        {"text": "a", "fontSize": 0},
        {"text": "a", "position": "middle"},
        {"text": "x" * 501},
        {},
    ],
)
def test_bad_settings_are_400(run_tool, photo, bad):
    with pytest.raises(ToolError) as err:
        run_tool("watermark-text", photo, bad)
    assert err.value.status == 400 and err.value.code == "INVALID_SETTINGS"


def test_a_truncated_jpeg_is_422(run_tool, truncated_jpeg):
    with pytest.raises(ToolError) as err:
        run_tool("watermark-text", truncated_jpeg, {"text": "a"})
    assert err.value.status == 422


def test_transparency_is_kept(run_tool, transparent, img):
    pixels = img.decode(run_tool("watermark-text", transparent, {"text": "a"}).path)
    assert pixels.shape[2] == 4 and pixels[0, 0, 3] == 0
