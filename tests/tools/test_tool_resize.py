"""resize: geometry of every fit, presets, shrink-on-load, orientation, alpha, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips
from PIL import Image

from tools import imaging, resize, runner
from tools.base import Context, ToolError


def _plan(image_width: int, image_height: int, **settings: object) -> resize.Plan:
    return resize.plan(image_width, image_height, resize.Settings.model_validate(settings))


@pytest.mark.parametrize(
    ("raw", "scaled", "box", "pad"),
    [
        ({"width": 300}, (300, 200), None, False),
        ({"height": 100}, (150, 100), None, False),
        ({"percentage": 25}, (150, 100), None, False),
        ({"width": 300, "height": 300}, (450, 300), (300, 300), False),  # cover: the default
        ({"width": 300, "height": 300, "fit": "contain"}, (300, 200), (300, 300), True),
        ({"width": 300, "height": 300, "fit": "fill"}, (300, 300), None, False),
        ({"width": 300, "height": 300, "fit": "inside"}, (300, 200), None, False),
        ({"width": 300, "height": 300, "fit": "outside"}, (450, 300), None, False),
        ({"width": 1200, "withoutEnlargement": True}, (600, 400), None, False),
        (
            {"width": 900, "height": 900, "fit": "fill", "withoutEnlargement": True},
            (600, 400),
            None,
            False,
        ),
    ],
)
def test_it_plans_sharp_geometry(raw: dict, scaled: tuple, box: tuple | None, pad: bool) -> None:
    assert _plan(600, 400, **raw) == resize.Plan(scaled, box, pad)


def test_it_has_exactly_23_presets_in_its_schema() -> None:
    assert len(resize.PRESETS) == 23
    assert resize.PRESETS["instagram-portrait"] == (1080, 1350)
    assert resize.PRESETS["linkedin-cover"] == (1584, 396)
    schema = resize.Settings.model_json_schema()["properties"]["preset"]
    enum = schema["anyOf"][0]["enum"]
    assert sorted(enum) == sorted(resize.PRESETS)
    assert schema["presets"]["tumblr-post"] == {"width": 1280, "height": 1920}


def test_the_shrink_on_load_factor_leaves_at_least_the_target() -> None:
    assert resize._shrink_on_load((4000, 3000), (800, 600)) == 4
    assert resize._shrink_on_load((4000, 3000), (400, 300)) == 8
    assert resize._shrink_on_load((4000, 3000), (1999, 1500)) == 2
    assert resize._shrink_on_load((600, 400), (300, 200)) == 2
    assert resize._shrink_on_load((600, 400), (301, 200)) == 1


def test_it_resizes_a_photo_like_pillow_does(photo, run_tool, img) -> None:
    output = run_tool("resize", photo, {"width": 300})
    assert (output.filename, output.media_type) == ("image.jpg", "image/jpeg")
    assert imaging.sniff(output.path) == "jpeg"
    with Image.open(photo.path) as im:
        reference = np.asarray(im.resize((300, 200), Image.Resampling.LANCZOS), dtype=np.float32)
    pixels = img.decode(output.path)
    assert pixels.shape == (200, 300, 3)
    # JPEG q80 and DCT shrink-on-load vs Pillow's Lanczos: close, not identical.
    assert img.mad(pixels, reference) < 6
    assert img.ssim(pixels, reference) > 0.97
    assert output.engine.startswith("libvips ")


def test_shrink_on_load_keeps_the_picture(tmp_path: Path, photo, make_source, ctx, img) -> None:
    """A 2400x1600 JPEG goes through DCT shrinking (by 4) and still matches Pillow's result."""
    big = pyvips.Image.new_from_file(str(photo.path)).resize(4, kernel="lanczos3")
    big.jpegsave(str(tmp_path / "big.jpg"), Q=92)
    output = runner.execute(resize.TOOL, [make_source(tmp_path / "big.jpg")], {"width": 500}, ctx)
    with Image.open(photo.path) as im:
        reference = np.asarray(im.resize((500, 333), Image.Resampling.LANCZOS), dtype=np.float32)
    assert img.mad(img.decode(output.path), reference) < 5


@pytest.mark.parametrize("width, opens", [(500, 1), (100, 2)])  # 100 px: shrink-on-load
def test_it_reads_the_header_once_more_only_to_shrink_on_load(
    width: int, opens: int, photo, run_tool, monkeypatch
) -> None:
    """Each header read is a file open and some 30 libvips calls, each handing over the GIL
    that the web process's other requests wait for (issue 14)."""
    calls: list[dict] = []
    real = imaging.open_header

    def counting(source, **opts):
        calls.append(opts)
        return real(source, **opts)

    monkeypatch.setattr(imaging, "open_header", counting)
    output = run_tool("resize", photo, {"width": width})
    assert pyvips.Image.new_from_file(str(output.path)).width == width
    assert len(calls) == opens
    assert all(opts.get("access") == "sequential" for opts in calls)


def test_cover_crops_the_centre(photo, run_tool, img) -> None:
    output = run_tool("resize", photo, {"width": 200, "height": 200})
    pixels = img.decode(output.path)
    assert pixels.shape[:2] == (200, 200)
    with Image.open(photo.path) as im:
        centre = im.crop((100, 0, 500, 400)).resize((200, 200), Image.Resampling.LANCZOS)
    assert img.ssim(pixels, np.asarray(centre, dtype=np.float32)) > 0.95


def test_contain_pads_jpeg_with_white_and_png_with_transparency(photo, run_tool, img) -> None:
    jpeg = img.decode(
        run_tool("resize", photo, {"width": 300, "height": 300, "fit": "contain"}).path
    )
    assert jpeg.shape == (300, 300, 3)
    assert jpeg[:40].min() > 245 and jpeg[-40:].min() > 245  # bars above and below
    png = img.decode(
        run_tool(
            "resize", photo, {"width": 300, "height": 300, "fit": "contain", "format": "png"}
        ).path
    )
    assert png.shape == (300, 300, 4)
    assert png[:40, :, 3].max() == 0 and png[150, 150, 3] == 255


def test_contain_uses_the_background_colour(photo, run_tool, img) -> None:
    settings = {"width": 300, "height": 300, "fit": "contain", "background": "#ff0000"}
    pixels = img.decode(run_tool("resize", photo, settings).path)
    assert np.abs(pixels[10, 150] - [255, 0, 0]).max() < 8


def test_fill_stretches_to_the_exact_box(photo, run_tool, img) -> None:
    pixels = img.decode(
        run_tool("resize", photo, {"width": 100, "height": 300, "fit": "fill"}).path
    )
    assert pixels.shape[:2] == (300, 100)


def test_it_resizes_upright_photos_as_displayed(photo, photo_rotated, run_tool, img) -> None:
    sideways = img.decode(run_tool("resize", photo_rotated, {"width": 300}).path)
    upright = img.decode(run_tool("resize", photo, {"width": 300}).path)
    assert sideways.shape == upright.shape == (200, 300, 3)
    assert img.mad(sideways, upright) < 3


def test_it_keeps_alpha(transparent, run_tool, img) -> None:
    output = run_tool("resize", transparent, {"percentage": 50})
    pixels = img.decode(output.path)
    assert (output.media_type, pixels.shape) == ("image/png", (150, 226, 4))
    assert pixels[0, 0, 3] == 0 and pixels[75, 113, 3] == 255


def test_presets_set_the_size(photo, run_tool, img) -> None:
    pixels = img.decode(run_tool("resize", photo, {"preset": "instagram-story"}).path)
    assert pixels.shape[:2] == (1920, 1080)


def test_it_converts_when_asked_and_turns_unwritable_formats_into_png(
    photo, tmp_path: Path, make_source, run_tool
) -> None:
    assert run_tool("resize", photo, {"width": 50, "format": "webp"}).media_type == "image/webp"
    with Image.open(photo.path) as im:
        im.save(tmp_path / "a.bmp")
    output = run_tool("resize", make_source(tmp_path / "a.bmp"), {"width": 50})
    assert imaging.sniff(output.path) == "png"


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"width": -1},
        {"height": 16384},
        {"percentage": 0},
        {"width": 10, "percentage": 50},
        {"preset": "instagram-square", "width": 10},
        {"preset": "myspace-top8"},
        {"width": 10, "fit": "stretch"},
        {"width": 10, "background": "red"},
    ],
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(resize.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_it_refuses_to_upscale_past_the_pixel_limit(photo, tmp_path: Path) -> None:
    small_budget = Context(scratch_dir=tmp_path, max_megapixels=1)
    with pytest.raises(ToolError) as caught:
        runner.execute(resize.TOOL, [photo], {"width": 2000}, small_budget)
    assert caught.value.code == "IMAGE_TOO_LARGE"
