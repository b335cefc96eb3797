"""red-eye-removal: red pupils painted on the astronaut's eyes go grey; nothing else moves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips
from PIL import Image

from tests.shipped_models import shipped_models_dir
from tools import red_eye_removal, runner
from tools.ai import install, mediapipe_tasks
from tools.base import Context, Output, Source, ToolError

RADIUS = 5  # px: a pupil on the 512 px astronaut (her eyes are ~45 px apart)


@pytest.fixture
def models_ctx(tmp_path: Path) -> Context:
    return Context(scratch_dir=tmp_path / "scratch", model_dir=shipped_models_dir())


@pytest.fixture
def fix(models_ctx: Context):
    def run(source: Source, settings: dict[str, Any]) -> Output:
        parsed = runner.validate_settings(red_eye_removal.TOOL, settings)
        return runner.execute(red_eye_removal.TOOL, [source], parsed, models_ctx)

    return run


def pixels_of(path: Path) -> np.ndarray:
    return pyvips.Image.new_from_file(str(path)).numpy().astype(np.int32)


def eyes_of(astronaut: Source, ctx: Context) -> list[tuple[float, float]]:
    with Image.open(astronaut.path) as im:
        rgb = np.asarray(im.convert("RGB"))
    faces, _ = mediapipe_tasks.detect_faces(ctx, rgb)
    return [faces[0].keypoints["right_eye"], faces[0].keypoints["left_eye"]]


def disc(shape: tuple[int, ...], centre: tuple[float, float], radius: float) -> np.ndarray:
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    return np.hypot(xs - centre[0], ys - centre[1]) <= radius


@pytest.fixture
def red_eyed(astronaut: Source, models_ctx: Context, tmp_path: Path, make_source):
    """The astronaut with red pupils (a bright highlight in each), and the eye centres."""

    def make(red: tuple[int, int, int] = (205, 35, 40)) -> tuple[Source, list]:
        with Image.open(astronaut.path) as im:
            pixels = np.asarray(im.convert("RGB")).copy()
        rng = np.random.default_rng(5)
        eyes = eyes_of(astronaut, models_ctx)
        for x, y in eyes:
            inside = disc(pixels.shape, (x, y), RADIUS)
            noise = rng.integers(-8, 9, (int(inside.sum()), 3))
            pixels[inside] = np.clip(np.array(red) + noise, 0, 255)
            pixels[round(y) - 1, round(x) + 1] = (250, 250, 250)  # the flash's reflection
        path = tmp_path / f"red-{red[0]}-{red[1]}.png"
        Image.fromarray(pixels).save(path)
        return make_source(path), eyes

    return make


def near_any(shape: tuple[int, ...], eyes: list, radius: float) -> np.ndarray:
    return np.logical_or.reduce([disc(shape, e, radius) for e in eyes])


def test_red_pupils_turn_neutral_and_nothing_else_changes(red_eyed, fix) -> None:
    source, eyes = red_eyed()
    output = fix(source, {"format": "png"})
    before, after = pixels_of(source.path), pixels_of(output.path)
    pupils = near_any(before.shape, eyes, RADIUS - 1)
    assert (before[pupils][:, 0] > 150).mean() > 0.9  # they were red
    r, g, b = (after[pupils][:, i] for i in range(3))
    assert np.abs(r - (g + b) / 2).max() <= 3  # red now sits with green and blue
    # Away from the pupils, not one pixel changed.
    away = ~near_any(before.shape, eyes, RADIUS + 4)
    assert np.array_equal(before[away], after[away])
    assert output.extras["eyesCorrected"] == 2
    assert all(e["corrected"] and e["pixels"] >= 50 for e in output.extras["eyes"])
    assert output.model == "mediapipe-face-detector" and output.device == "cpu"
    assert "redness mask" in output.engine and "mediapipe" in output.engine


def test_eyes_that_are_not_red_are_left_alone(astronaut, fix) -> None:
    output = fix(astronaut, {"format": "png"})
    assert output.extras["eyesCorrected"] == 0 and len(output.extras["eyes"]) == 2
    assert np.array_equal(pixels_of(astronaut.path), pixels_of(output.path))


def test_sensitivity_decides_about_a_mildly_red_pupil(red_eyed, fix) -> None:
    source, _ = red_eyed((150, 85, 85))  # R / max(G, B) ~ 1.75
    assert fix(source, {"format": "png", "sensitivity": 0}).extras["eyesCorrected"] == 0
    assert fix(source, {"format": "png", "sensitivity": 100}).extras["eyesCorrected"] == 2


def test_strength_blends_the_correction(red_eyed, fix) -> None:
    source, eyes = red_eyed()
    before = pixels_of(source.path)
    half = pixels_of(fix(source, {"format": "png", "strength": 50}).path)
    pupils = near_any(before.shape, eyes, RADIUS - 1)
    target = (before[pupils][:, 1] + before[pupils][:, 2]) / 2
    expected = (before[pupils][:, 0] + target) / 2
    assert np.abs(half[pupils][:, 0] - expected).max() <= 2
    none = pixels_of(fix(source, {"format": "png", "strength": 0}).path)
    assert np.array_equal(none, before)


def test_no_face_is_422(photo, fix) -> None:
    with pytest.raises(ToolError) as caught:
        fix(photo, {})
    assert (caught.value.code, caught.value.status) == ("NO_FACE_FOUND", 422)


def test_a_missing_model_is_503(astronaut, tmp_path: Path) -> None:
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "empty")
    with pytest.raises(ToolError) as caught:
        runner.execute(red_eye_removal.TOOL, [astronaut], {}, ctx)
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)


@pytest.mark.parametrize("raw", [{"sensitivity": -1}, {"sensitivity": 101}, {"strength": 200}])
def test_it_rejects_out_of_range_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(red_eye_removal.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_without_the_full_range_model_no_face_is_still_422(photo, tmp_path: Path) -> None:
    """The full-range detector is only a second try: missing, it is skipped, not a 503."""
    only = tmp_path / "models" / mediapipe_tasks.SHORT_RANGE
    only.mkdir(parents=True)
    name = "face_detection_short_range.tflite"
    (only / name).write_bytes(
        (shipped_models_dir() / mediapipe_tasks.SHORT_RANGE / name).read_bytes()
    )
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "models")
    assert not install.is_installed(ctx.model_dir, mediapipe_tasks.FULL_RANGE)
    with pytest.raises(ToolError) as caught:
        runner.execute(red_eye_removal.TOOL, [photo], {}, ctx)
    assert (caught.value.code, caught.value.status) == ("NO_FACE_FOUND", 422)
