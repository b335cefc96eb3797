"""content-aware-resize: exact size, objects kept while flat areas go, progress, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from tests.shipped_models import shipped_models_dir
from tools import content_aware_resize, runner
from tools.ai import mediapipe_tasks
from tools.base import Context, Output, Source, ToolError


@pytest.fixture
def carve(ctx: Context):
    """Run content-aware-resize the way the apps do (settings validated first)."""

    def run(source: Source, settings: dict) -> Output:
        parsed = runner.validate_settings(content_aware_resize.TOOL, settings)
        return runner.execute(content_aware_resize.TOOL, [source], parsed, ctx)

    return run


@pytest.fixture
def square_on_flat(tmp_path: Path, make_source) -> Source:
    """300x200 flat grey with a textured 60x60 bright square at (40, 70): an object."""
    rng = np.random.default_rng(3)
    pixels = np.full((200, 300, 3), 90, dtype=np.uint8)
    pixels[70:130, 40:100] = rng.integers(180, 256, (60, 60, 3), dtype=np.uint8)
    path = tmp_path / "square.png"
    pyvips.Image.new_from_array(pixels).copy(interpretation="srgb").pngsave(str(path))
    return make_source(path)


def bright_pixels(path: Path) -> int:
    pixels = pyvips.Image.new_from_file(str(path)).numpy()
    return int((pixels.min(axis=2) >= 170).sum())


def size_of(output: Output) -> tuple[int, int]:
    image = pyvips.Image.new_from_file(str(output.path))
    return image.width, image.height


def test_it_carves_to_the_exact_width_and_names_the_algorithm(photo, carve) -> None:
    output = carve(photo, {"width": 450})
    assert size_of(output) == (450, 400)
    assert "seam carving (Avidan & Shamir 2007)" in output.engine
    assert output.extras["seams"] == {"vertical": 150, "horizontal": 0}


def test_the_object_stays_while_the_flat_background_goes(square_on_flat, carve) -> None:
    before = bright_pixels(square_on_flat.path)
    output = carve(square_on_flat, {"width": 180, "height": 140, "format": "png"})
    assert size_of(output) == (180, 140)
    assert bright_pixels(output.path) == pytest.approx(before, rel=0.03)


def test_height_reduction_and_square(photo, carve, img) -> None:
    assert size_of(carve(photo, {"height": 330})) == (600, 330)
    squared = carve(photo, {"square": True, "format": "png"})
    assert size_of(squared) == (400, 400)
    # Carving removes content, it does not squash it: no mean colour shift.
    assert abs(img.decode(squared.path).mean() - img.decode(photo.path).mean()) < 12


def test_it_reports_progress_per_batch(photo, tmp_path: Path) -> None:
    events: list[float] = []
    ctx = Context(scratch_dir=tmp_path / "s", progress=lambda p, _m="": events.append(p))
    runner.execute(content_aware_resize.TOOL, [photo], {"width": 500}, ctx)
    carving = [p for p in events if 0 < p <= 50]
    assert len(carving) >= 10 and carving == sorted(carving)


def test_alpha_is_carved_with_the_pixels(transparent, carve) -> None:
    output = carve(transparent, {"width": 400})
    image = pyvips.Image.new_from_file(str(output.path))
    assert (image.width, image.bands) == (400, 4)
    assert image.numpy()[0, 0, 3] == 0  # the transparent corner is still transparent


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"width": 601}, "INVALID_SETTINGS"),
        ({"height": 401}, "INVALID_SETTINGS"),
        ({}, "INVALID_SETTINGS"),
    ],
)
def test_it_refuses_what_it_cannot_do(photo, carve, raw: dict, code: str) -> None:
    with pytest.raises(ToolError) as caught:
        carve(photo, raw)
    assert (caught.value.code, caught.value.status) == (code, 400)


@pytest.mark.parametrize("raw", [{"width": 0}, {"blurRadius": -1}, {"sobelThreshold": 256}])
def test_it_rejects_out_of_range_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(content_aware_resize.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)


def test_it_refuses_a_truncated_jpeg_and_two_files(truncated_jpeg, photo, ctx) -> None:
    with pytest.raises(ToolError) as caught:
        runner.execute(content_aware_resize.TOOL, [truncated_jpeg], {"width": 300}, ctx)
    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)
    with pytest.raises(ToolError) as caught:
        runner.execute(content_aware_resize.TOOL, [photo, photo], {"width": 300}, ctx)
    assert caught.value.code == "WRONG_INPUT_COUNT"


# --- protectFaces (real MediaPipe weights) ----------------------------------------------


@pytest.fixture
def models_ctx(tmp_path: Path) -> Context:
    return Context(scratch_dir=tmp_path / "models-scratch", model_dir=shipped_models_dir())


def rgb_of(path: Path | None) -> np.ndarray:
    assert path is not None
    return pyvips.Image.new_from_file(str(path)).numpy()[..., :3]


def test_protect_faces_keeps_the_face_whole_when_narrowing(astronaut, models_ctx) -> None:
    """The astronaut narrowed by 25%: her face box comes through as an exact copy."""
    original = rgb_of(astronaut.path)
    faces, _ = mediapipe_tasks.detect_faces(models_ctx, original, full_range=True)
    x, y, w, h = faces[0].box
    face = original[y : y + h, x : x + w]

    def copies_of_the_face(output: Output) -> list[int]:
        carved = rgb_of(output.path)
        return [
            left
            for left in range(carved.shape[1] - w + 1)
            if np.array_equal(carved[y : y + h, left : left + w], face)
        ]

    settings = {"width": 384, "format": "png"}
    kept = runner.execute(
        content_aware_resize.TOOL, [astronaut], {**settings, "protectFaces": True}, models_ctx
    )
    assert size_of(kept) == (384, 512)
    assert len(copies_of_the_face(kept)) == 1
    found, _ = mediapipe_tasks.detect_faces(models_ctx, rgb_of(kept.path))
    assert len(found) == 1 and found[0].box[2] == pytest.approx(95, rel=0.04)
    assert kept.extras["facesProtected"] == 1
    assert kept.model == "mediapipe-face-detector-full" and kept.device == "cpu"
    assert "mediapipe" in kept.engine and "seam carving" in kept.engine
    # Without the option seams run through her face: no exact copy is left.
    plain = runner.execute(content_aware_resize.TOOL, [astronaut], settings, models_ctx)
    assert copies_of_the_face(plain) == []


def test_protect_faces_without_faces_carves_as_before(photo, models_ctx, img) -> None:
    settings = {"width": 500, "format": "png"}
    plain = runner.execute(content_aware_resize.TOOL, [photo], settings, models_ctx)
    protected = runner.execute(
        content_aware_resize.TOOL, [photo], {**settings, "protectFaces": True}, models_ctx
    )
    assert protected.extras["facesProtected"] == 0
    assert np.array_equal(img.decode(plain.path), img.decode(protected.path))
    assert plain.model is None


def test_protect_faces_without_the_model_is_503(photo, tmp_path: Path) -> None:
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "empty")
    with pytest.raises(ToolError) as caught:
        runner.execute(
            content_aware_resize.TOOL, [photo], {"width": 500, "protectFaces": True}, ctx
        )
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
