"""tools.ai.mediapipe_tasks: real MediaPipe weights on real photos, loaded once, 503s."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.shipped_models import shipped_models_dir
from tools.ai import engines, mediapipe_tasks
from tools.ai.mediapipe_tasks import Face, detect_faces, segment_person
from tools.ai.store import ModelStore
from tools.base import Context, Source, ToolError

# Where the astronaut's eyes are (512x512; her right eye is on the image's left).
RIGHT_EYE = (201, 105)
LEFT_EYE = (246, 109)


@pytest.fixture
def models_ctx(tmp_path: Path) -> Context:
    """A context on the shipped weights with its own model store (counts loads)."""
    return Context(scratch_dir=tmp_path / "s", model_dir=shipped_models_dir(), models=ModelStore())


def rgb_of(source: Source) -> np.ndarray:
    with Image.open(source.path) as im:
        return np.asarray(im.convert("RGB"))


def near(point: tuple[float, float], expected: tuple[float, float], tolerance: float) -> bool:
    return bool(np.hypot(point[0] - expected[0], point[1] - expected[1]) <= tolerance)


@pytest.mark.parametrize("full_range", [False, True])
def test_it_finds_the_astronauts_one_face_with_her_eyes(
    models_ctx: Context, astronaut: Source, full_range: bool
) -> None:
    faces, run = detect_faces(models_ctx, rgb_of(astronaut), full_range=full_range)
    assert len(faces) == 1
    face = faces[0]
    assert isinstance(face, Face) and face.score > 0.8
    x, y, w, h = face.box
    assert 160 <= x <= 190 and 55 <= y <= 95 and 85 <= w <= 115 and 85 <= h <= 115
    assert set(face.keypoints) == set(mediapipe_tasks.KEYPOINTS)
    assert near(face.keypoints["right_eye"], RIGHT_EYE, 8)
    assert near(face.keypoints["left_eye"], LEFT_EYE, 8)
    model = "mediapipe-face-detector-full" if full_range else "mediapipe-face-detector"
    assert run["model"] == model and run["device"] == "cpu"
    assert run["engine"].startswith("mediapipe ") and "TFLite, CPU" in run["engine"]
    assert len(run["modelSha256"]) == 64


def test_the_photo_has_no_face(models_ctx: Context, photo: Source) -> None:
    faces, _ = detect_faces(models_ctx, rgb_of(photo))
    assert faces == []


def test_boxes_are_mapped_back_from_a_shrunk_big_image(
    models_ctx: Context, astronaut: Source
) -> None:
    """A 2560x2560 copy is detected on a 1280 px copy: boxes come back at full size."""
    big = np.asarray(Image.fromarray(rgb_of(astronaut)).resize((2560, 2560)))
    faces, _ = detect_faces(models_ctx, big)
    assert len(faces) == 1
    assert near(faces[0].keypoints["right_eye"], (RIGHT_EYE[0] * 5, RIGHT_EYE[1] * 5), 40)
    assert 425 <= faces[0].box[2] <= 575


def test_full_range_tiles_find_a_small_face_in_a_big_image(
    models_ctx: Context, astronaut: Source
) -> None:
    """The astronaut at 256 px inside a 3200x2000 scene: too small for one 192 px look."""
    scene = np.full((2000, 3200, 3), 128, dtype=np.uint8)
    scene[1500:1756, 2600:2856] = np.asarray(Image.fromarray(rgb_of(astronaut)).resize((256, 256)))
    faces, _ = detect_faces(models_ctx, scene, full_range=True)
    assert len(faces) == 1
    eye = faces[0].keypoints["right_eye"]
    assert near(eye, (2600 + RIGHT_EYE[0] / 2, 1500 + RIGHT_EYE[1] / 2), 8)


def test_min_score_filters(models_ctx: Context, astronaut: Source) -> None:
    assert detect_faces(models_ctx, rgb_of(astronaut), min_score=0.99)[0] == []


def test_segmentation_marks_her_body_and_not_the_top_corners(
    models_ctx: Context, astronaut: Source
) -> None:
    mask, run = segment_person(models_ctx, rgb_of(astronaut))
    assert mask.shape == (512, 512) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert mask[300:400, 200:300].mean() > 0.9  # her suit
    assert mask[120, 225] > 0.9  # her face
    assert mask[:40, :40].mean() < 0.1 and mask[:40, -40:].mean() < 0.1
    assert run["model"] == "mediapipe-selfie-segmenter" and run["device"] == "cpu"


def test_segmentation_of_a_big_image_comes_back_at_its_size(
    models_ctx: Context, astronaut: Source
) -> None:
    big = np.asarray(Image.fromarray(rgb_of(astronaut)).resize((1600, 2000)))
    mask, _ = segment_person(models_ctx, big)
    assert mask.shape == (2000, 1600)
    assert mask[1200:1500, 700:900].mean() > 0.9 and mask[:100, :100].mean() < 0.1


def test_each_model_is_loaded_once_for_two_calls(models_ctx: Context, astronaut: Source) -> None:
    rgb = rgb_of(astronaut)
    detect_faces(models_ctx, rgb)
    detect_faces(models_ctx, rgb)
    assert models_ctx.models.loads == 1
    segment_person(models_ctx, rgb)
    segment_person(models_ctx, rgb)
    assert models_ctx.models.loads == 2


@pytest.mark.parametrize("call", ["detect", "segment"])
def test_a_missing_model_is_503(tmp_path: Path, astronaut: Source, call: str) -> None:
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "empty", models=ModelStore())
    with pytest.raises(ToolError) as caught:
        if call == "detect":
            detect_faces(ctx, rgb_of(astronaut))
        else:
            segment_person(ctx, rgb_of(astronaut))
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "mediapipe-" in caught.value.message


def test_an_unavailable_engine_is_503_with_its_fix(
    models_ctx: Context, astronaut: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = engines.EngineStatus("tflite", False, None, "mediapipe is not installed", "pip x")
    monkeypatch.setattr(mediapipe_tasks.engines, "check", lambda _name: broken)
    with pytest.raises(ToolError) as caught:
        detect_faces(models_ctx, rgb_of(astronaut))
    assert (caught.value.code, caught.value.status) == ("ENGINE_UNAVAILABLE", 503)
    assert "mediapipe is not installed" in caught.value.message and "pip x" in caught.value.message
