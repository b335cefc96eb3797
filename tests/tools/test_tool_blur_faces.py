"""blur-faces: real MediaPipe weights; only the face boxes change, 0 faces is fine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pyvips

from tests.shipped_models import shipped_models_dir
from tools import arrays, blur_faces, runner
from tools.base import Context, Output, Source, ToolError


@pytest.fixture
def models_ctx(tmp_path: Path) -> Context:
    return Context(scratch_dir=tmp_path / "scratch", model_dir=shipped_models_dir())


@pytest.fixture
def blur(models_ctx: Context):
    def run(source: Source, settings: dict[str, Any]) -> Output:
        parsed = runner.validate_settings(blur_faces.TOOL, settings)
        return runner.execute(blur_faces.TOOL, [source], parsed, models_ctx)

    return run


def pixels_of(path: Path) -> np.ndarray:
    return pyvips.Image.new_from_file(str(path)).numpy().astype(np.int32)


def hidden_box(output: Output, padding: float, size: tuple[int, int] = (512, 512)):
    face = output.extras["faces"][0]
    box = (face["x"], face["y"], face["width"], face["height"])
    return arrays.grow_box(box, padding, *size)


def outside(pixels: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    keep = np.ones(pixels.shape[:2], dtype=bool)
    keep[y : y + h, x : x + w] = False
    return pixels[keep]


def test_it_blurs_the_astronauts_face_and_nothing_else(astronaut, blur, img) -> None:
    output = blur(astronaut, {"format": "png", "padding": 0.1})
    assert output.extras["faceCount"] == 1
    face = output.extras["faces"][0]
    assert 160 <= face["x"] <= 190 and 55 <= face["y"] <= 95 and face["score"] > 0.8
    before, after = pixels_of(astronaut.path), pixels_of(output.path)
    box = hidden_box(output, 0.1)
    assert np.array_equal(outside(before, box), outside(after, box))
    x, y, w, h = box
    inside_before, inside_after = before[y : y + h, x : x + w], after[y : y + h, x : x + w]
    assert np.abs(inside_before - inside_after).mean() > 8
    # Blurred: the fine detail (differences between neighbours) is mostly gone.
    detail = lambda a: np.abs(np.diff(a.astype(float), axis=1)).mean()  # noqa: E731
    assert detail(inside_after) < detail(inside_before) / 3
    assert output.model == "mediapipe-face-detector" and output.device == "cpu"
    assert output.model_sha256 and len(output.model_sha256) == 64
    assert "mediapipe" in output.engine and "GaussianBlur (sigma 30 px)" in output.engine
    assert "libvips" in output.engine


def test_pixelate_makes_uniform_blocks(astronaut, blur) -> None:
    output = blur(astronaut, {"format": "png", "mode": "pixelate", "blurRadius": 10})
    x, y, w, h = hidden_box(output, 0.2)
    after = pixels_of(output.path)
    block = after[y : y + 10, x : x + 10]
    assert (block == block[0, 0]).all()
    assert len(np.unique(after[y : y + h, x : x + w].reshape(-1, 3), axis=0)) > 4
    before = pixels_of(astronaut.path)
    assert np.array_equal(outside(before, (x, y, w, h)), outside(after, (x, y, w, h)))
    assert "pixelate (blocks of 10 px)" in output.engine


def test_fill_paints_the_box_with_the_colour(astronaut, blur) -> None:
    output = blur(astronaut, {"format": "png", "mode": "fill", "fillColor": "#ff8000"})
    x, y, w, h = hidden_box(output, 0.2)
    after = pixels_of(output.path)
    assert (after[y : y + h, x : x + w] == [255, 128, 0]).all()
    assert np.array_equal(
        outside(pixels_of(astronaut.path), (x, y, w, h)), outside(after, (x, y, w, h))
    )


def test_no_face_is_success_and_the_image_is_unchanged(photo, blur) -> None:
    output = blur(photo, {"format": "png"})
    assert output.extras["faceCount"] == 0 and output.extras["faces"] == []
    assert np.array_equal(pixels_of(output.path), pixels_of(photo.path))
    assert output.model == "mediapipe-face-detector"  # it looked


def test_full_range_uses_the_full_range_model(astronaut, blur) -> None:
    output = blur(astronaut, {"format": "png", "fullRange": True})
    assert output.extras["faceCount"] == 1
    assert output.model == "mediapipe-face-detector-full"


def test_sensitivity_sets_the_score_threshold(astronaut, blur) -> None:
    assert blur_faces.min_score(0) > blur_faces.min_score(0.5) > blur_faces.min_score(1)
    assert blur_faces.min_score(0.5) == 0.5
    # The astronaut scores ~0.92: found at the least sensitive setting as well.
    assert blur(astronaut, {"format": "png", "sensitivity": 0}).extras["faceCount"] == 1


def test_alpha_is_kept(astronaut, blur, tmp_path: Path, make_source) -> None:
    rgb = pyvips.Image.new_from_file(str(astronaut.path))
    alpha = pyvips.Image.black(512, 512) + 200
    path = tmp_path / "rgba.png"
    rgb.bandjoin(alpha.cast("uchar")).copy(interpretation="srgb").pngsave(str(path))
    output = blur(make_source(path), {})
    result = pixels_of(output.path)
    assert result.shape == (512, 512, 4) and (result[..., 3] == 200).all()
    assert output.extras["faceCount"] == 1


def test_it_reports_progress_per_face(astronaut, tmp_path: Path) -> None:
    events: list[tuple[float, str]] = []
    ctx = Context(
        scratch_dir=tmp_path / "s",
        model_dir=shipped_models_dir(),
        progress=lambda p, m="": events.append((p, m)),
    )
    runner.execute(blur_faces.TOOL, [astronaut], {}, ctx)
    assert any(m == "hid face 1 of 1" for _, m in events)
    assert [p for p, _ in events] == sorted(p for p, _ in events)


def test_a_missing_model_is_503(astronaut, tmp_path: Path) -> None:
    ctx = Context(scratch_dir=tmp_path / "s", model_dir=tmp_path / "empty")
    with pytest.raises(ToolError) as caught:
        runner.execute(blur_faces.TOOL, [astronaut], {}, ctx)
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)


@pytest.mark.parametrize(
    "raw",
    [
        {"blurRadius": 0},
        {"blurRadius": 201},
        {"sensitivity": 1.5},
        {"padding": -0.1},
        {"mode": "smudge"},
        {"fillColor": "red"},
    ],
)
def test_it_rejects_out_of_range_settings(raw: dict) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(blur_faces.TOOL, raw)
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
