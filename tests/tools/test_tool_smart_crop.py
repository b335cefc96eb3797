"""smart-crop: subject (selfie segmenter, saliency fallback), face presets, trim; sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips

from tests.shipped_models import shipped_models_dir
from tools import runner, smart_crop
from tools.base import Context, Output, Source, ToolError

FACE = (177, 82, 95, 95)  # the astronaut's face box (short-range detector)


@pytest.fixture
def models_ctx(tmp_path: Path) -> Context:
    return Context(scratch_dir=tmp_path / "scratch", model_dir=shipped_models_dir())


@pytest.fixture
def crop(models_ctx: Context):
    def run(source: Source, settings: dict[str, Any]) -> Output:
        parsed = runner.validate_settings(smart_crop.TOOL, settings)
        return runner.execute(smart_crop.TOOL, [source], parsed, models_ctx)

    return run


def size_of(output: Output) -> tuple[int, int]:
    image = pyvips.Image.new_from_file(str(output.path))
    return image.width, image.height


def contains(box: dict[str, int], inner: tuple[int, int, int, int]) -> bool:
    x, y, w, h = inner
    return (
        box["left"] <= x
        and box["top"] <= y
        and x + w <= box["left"] + box["width"]
        and y + h <= box["top"] + box["height"]
    )


def save(pixels: np.ndarray, path: Path, make_source) -> Source:
    kind = "srgb" if pixels.shape[2] >= 3 else "b-w"
    pyvips.Image.new_from_array(pixels).copy(interpretation=kind).pngsave(str(path))
    return make_source(path)


@pytest.fixture
def object_on_flat(tmp_path: Path, make_source) -> Source:
    """400x300 flat blue-grey (slight noise) with a textured 80x80 object at (290, 190)."""
    rng = np.random.default_rng(1)
    pixels = np.full((300, 400, 3), (120, 160, 200), dtype=np.int16)
    pixels = np.clip(pixels + rng.integers(-4, 5, pixels.shape), 0, 255).astype(np.uint8)
    pixels[190:270, 290:370] = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)
    return save(pixels, tmp_path / "object.png", make_source)


def test_subject_keeps_the_astronauts_head_in_a_wide_crop(astronaut, crop) -> None:
    output = crop(astronaut, {"width": 320, "height": 180, "format": "png"})
    assert size_of(output) == (320, 180)
    box = output.extras["crop"]
    assert box["width"] / box["height"] == pytest.approx(16 / 9, abs=0.01)
    assert contains(box, FACE)  # the window too short for her: the head stays, not the legs
    assert output.extras["subject"] == "segmenter"
    assert output.model == "mediapipe-selfie-segmenter" and output.device == "cpu"
    assert "mediapipe" in output.engine and "libvips" in output.engine


def test_subject_with_no_size_is_the_subjects_own_box(astronaut, crop) -> None:
    output = crop(astronaut, {"format": "png"})
    box = output.extras["crop"]
    assert size_of(output) == (box["width"], box["height"])
    assert contains(box, FACE)
    assert box["width"] * box["height"] < 0.9 * 512 * 512  # the background at the sides went
    padded = crop(astronaut, {"format": "png", "padding": 0.05}).extras["crop"]
    assert padded["width"] > box["width"]


def test_with_no_person_saliency_finds_the_object_and_says_so(object_on_flat, crop) -> None:
    output = crop(object_on_flat, {"width": 100, "height": 100})
    assert size_of(output) == (100, 100)
    assert output.extras["subject"] == "saliency"
    box = output.extras["crop"]
    assert box["width"] == box["height"] < 150
    centre = (box["left"] + box["width"] / 2, box["top"] + box["height"] / 2)
    assert abs(centre[0] - 330) < 20 and abs(centre[1] - 230) < 20
    assert "spectral-residual saliency (Hou & Zhang 2007)" in output.engine
    assert output.model == "mediapipe-selfie-segmenter"  # it ran, and found no one


@pytest.mark.parametrize(
    ("preset", "aspect"),
    [("close-up", 1.0), ("head-and-shoulders", 0.8), ("upper-body", 0.8), ("half-body", 0.75)],
)
def test_face_presets_frame_the_face(astronaut, crop, preset: str, aspect: float) -> None:
    output = crop(astronaut, {"mode": "face", "facePreset": preset})
    box = output.extras["crop"]
    assert contains(box, FACE)
    assert box["width"] / box["height"] == pytest.approx(aspect, abs=0.01)
    expected = min(512, round(FACE[3] * smart_crop.FRAMING[preset].height))
    assert box["height"] == pytest.approx(expected, abs=4)
    assert output.extras["subject"] == "face"
    assert output.model == "mediapipe-face-detector"


def test_face_presets_grow_in_order(astronaut, crop) -> None:
    heights = [
        crop(astronaut, {"mode": "face", "facePreset": p}).extras["crop"]["height"]
        for p in ("close-up", "head-and-shoulders", "upper-body")
    ]
    assert heights == sorted(heights) and len(set(heights)) == 3


def test_face_with_a_size_is_exactly_that_size(astronaut, crop) -> None:
    output = crop(astronaut, {"mode": "face", "width": 150, "height": 200, "format": "png"})
    assert size_of(output) == (150, 200)
    assert contains(output.extras["crop"], FACE)
    output = crop(astronaut, {"mode": "face", "width": 120})
    assert size_of(output)[0] == 120


def test_face_mode_without_a_face_is_422(photo, crop) -> None:
    with pytest.raises(ToolError) as caught:
        crop(photo, {"mode": "face"})
    assert (caught.value.code, caught.value.status) == ("NO_FACE_FOUND", 422)


def test_trim_removes_a_uniform_border_without_a_model(tmp_path: Path, make_source) -> None:
    rng = np.random.default_rng(2)
    pixels = np.full((200, 300, 3), (30, 60, 200), dtype=np.uint8)
    pixels[40:140, 50:250] = rng.integers(0, 256, (100, 200, 3), dtype=np.uint8)
    source = save(pixels, tmp_path / "bordered.png", make_source)
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "no-models")
    output = runner.execute(smart_crop.TOOL, [source], {"mode": "trim"}, ctx)
    assert output.extras["crop"] == {"left": 50, "top": 40, "width": 200, "height": 100}
    assert size_of(output) == (200, 100)
    assert output.model is None and output.engine.startswith("libvips")
    padded = runner.execute(smart_crop.TOOL, [source], {"mode": "trim", "padding": 0.1}, ctx)
    assert padded.extras["crop"] == {"left": 30, "top": 30, "width": 240, "height": 120}


def test_trim_uses_alpha_when_the_corners_are_transparent(tmp_path: Path, make_source, ctx):
    pixels = np.zeros((100, 120, 4), dtype=np.uint8)
    pixels[20:70, 10:100] = (200, 10, 10, 255)
    source = save(pixels, tmp_path / "sticker.png", make_source)
    output = runner.execute(smart_crop.TOOL, [source], {"mode": "trim"}, ctx)
    assert output.extras["crop"] == {"left": 10, "top": 20, "width": 90, "height": 50}
    assert pyvips.Image.new_from_file(str(output.path)).bands == 4


def test_trim_of_a_one_colour_image_gives_it_back(solid_image, ctx) -> None:
    source = solid_image(60, 40, (9, 9, 9))
    output = runner.execute(smart_crop.TOOL, [source], {"mode": "trim"}, ctx)
    assert size_of(output) == (60, 40)


def test_alpha_is_kept(astronaut, crop, tmp_path: Path, make_source) -> None:
    rgb = pyvips.Image.new_from_file(str(astronaut.path))
    path = tmp_path / "rgba.png"
    rgb.bandjoin((pyvips.Image.black(512, 512) + 180).cast("uchar")).pngsave(str(path))
    output = crop(make_source(path), {"mode": "face", "width": 100, "height": 100})
    pixels = pyvips.Image.new_from_file(str(output.path)).numpy()
    assert pixels.shape == (100, 100, 4) and abs(int(pixels[50, 50, 3]) - 180) <= 1


def test_a_missing_model_is_503(astronaut, tmp_path: Path) -> None:
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "empty")
    for settings in ({}, {"mode": "face"}):
        with pytest.raises(ToolError) as caught:
            runner.execute(smart_crop.TOOL, [astronaut], settings, ctx)
        assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)


@pytest.mark.parametrize(
    "raw",
    [
        {"facePreset": "close-up"},  # only mode face has presets
        {"mode": "trim", "width": 100},
        {"mode": "zoom"},
        {"width": 0},
        {"height": 16384},
        {"padding": 2},
        {"mode": "trim", "threshold": 300},
        {"mode": "face", "facePreset": "full-body"},
    ],
)
def test_it_rejects_bad_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(smart_crop.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
