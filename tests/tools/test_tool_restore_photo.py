"""restore-photo: synthetic scratches on a real photo are found and filled (classically,
OpenCV Telea, named as such) while the rest stays as it was; denoising reuses
noise-removal; every step says what ran or why it was skipped. The model paths (LaMa,
GFPGAN, DDColor) run on tiny stand-ins, to check the plumbing only."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.tools import restoration_models
from tools import registry, runner
from tools.base import Context, Source, ToolError

TOOL = registry.get("restore-photo")
# (from, to, grey level, thickness) as fractions of the 600x400 photo
SCRATCHES = [
    ((0.07, 0.05), (0.93, 0.95), 235, 2),
    ((0.83, 0.02), (0.20, 0.98), 245, 1),
    ((0.02, 0.75), (0.98, 0.65), 20, 2),
    ((0.50, 0.01), (0.55, 0.99), 230, 1),
]


def restore(source: Source, ctx: Context, **settings):
    assert TOOL is not None
    return runner.execute(TOOL, [source], runner.validate_settings(TOOL, settings), ctx)


@pytest.fixture
def clean(fixtures: Path) -> np.ndarray:
    return np.asarray(Image.open(fixtures / "photo.jpg").convert("RGB"))


@pytest.fixture
def scratched(clean: np.ndarray, tmp_path: Path, make_source) -> tuple[Source, np.ndarray]:
    """The photo with four long scratches (three white, one dark) drawn anti-aliased, and
    the band around them (where the scratches are, with a 2 px margin)."""
    height, width = clean.shape[:2]
    image, band = clean.copy(), np.zeros((height, width), np.uint8)
    for (x0, y0), (x1, y1), level, thickness in SCRATCHES:
        start, end = (int(x0 * width), int(y0 * height)), (int(x1 * width), int(y1 * height))
        cv2.line(image, start, end, (level,) * 3, thickness, cv2.LINE_AA)
        cv2.line(band, start, end, 255, thickness + 6)
    path = tmp_path / "scratched.png"
    Image.fromarray(image).save(path)
    return make_source(path), band > 0


@pytest.fixture
def no_models(ctx: Context, tmp_path: Path) -> Context:
    (tmp_path / "empty").mkdir()
    return ctx.derive(model_dir=tmp_path / "empty")


def steps(output) -> dict[str, dict]:
    return {step["step"]: step for step in output.extras["steps"]}


def test_scratches_are_removed_and_the_rest_is_left_alone(scratched, clean, no_models, img) -> None:
    source, band = scratched
    output = restore(source, no_models, denoise=False)

    before = img.decode(source.path)
    after = img.decode(output.path)
    truth = clean.astype(np.float32)
    damage, left = np.abs(before - truth)[band].mean(), np.abs(after - truth)[band].mean()
    assert damage > 20 and left < 0.35 * damage, (damage, left)
    assert np.abs(after - truth)[~band].mean() < 1.0  # a few thin highlights at most
    step = steps(output)["scratch-removal"]
    assert step["ran"] and step["engine"].startswith("OpenCV") and "Telea" in step["engine"]
    assert step["model"] is None and "LaMa (model lama) is not installed" in step["note"]
    assert output.model is None and "OpenCV" in output.engine


def test_every_step_says_what_ran_or_why_not(scratched, no_models) -> None:
    output = restore(scratched[0], no_models, denoise=False, colorize=True)
    found = steps(output)
    assert list(found) == ["scratch-removal", "denoise", "face-enhancement", "colorize"]
    assert found["denoise"] == {
        "step": "denoise",
        "ran": False,
        "why": "turned off in the settings",
    }
    faces = found["face-enhancement"]
    assert not faces["ran"]
    assert (
        faces["why"] == "model gfpgan-v1.4 is not installed (manage.py models install gfpgan-v1.4)"
    )
    assert not found["colorize"]["ran"] and "ddcolor" in found["colorize"]["why"]


def test_a_clean_smooth_image_has_no_scratches(tmp_path, make_source, no_models, img) -> None:
    ramp = np.linspace(40, 200, 500, dtype=np.float32)[None, :, None] * np.ones((300, 1, 3))
    path = tmp_path / "smooth.png"
    Image.fromarray(ramp.astype(np.uint8)).save(path)
    output = restore(make_source(path), no_models, denoise=False)
    step = steps(output)["scratch-removal"]
    assert step == {
        "step": "scratch-removal",
        "ran": False,
        "why": "no scratches found",
        "scratchPixels": 0,
    }
    assert np.array_equal(img.decode(output.path), img.decode(path))


def test_denoise_reuses_noise_removal_and_reduces_the_noise(
    clean, tmp_path, make_source, no_models, img
) -> None:
    rng = np.random.default_rng(7)
    noisy = np.clip(clean + rng.normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "noisy.png"
    Image.fromarray(noisy).save(path)
    output = restore(make_source(path), no_models, scratchRemoval=False)

    step = steps(output)["denoise"]
    assert step["ran"] and "fastNlMeansDenoisingColored" in step["engine"]
    assert step["strength"] == 50 and 8 < step["noiseSigma"] < 16
    truth = clean.astype(np.float32)
    assert img.mad(img.decode(output.path), truth) < 0.7 * img.mad(noisy.astype(np.float32), truth)
    assert "fastNlMeansDenoisingColored" in output.engine


def test_light_mode_denoises_with_the_fast_tier_at_its_strength(scratched, no_models) -> None:
    output = restore(scratched[0], no_models, mode="light", scratchRemoval=False)
    step = steps(output)["denoise"]
    assert "bilateralFilter" in step["engine"] and step["strength"] == 30
    explicit = restore(
        scratched[0], no_models, mode="light", scratchRemoval=False, denoiseStrength=80
    )
    assert steps(explicit)["denoise"]["strength"] == 80


def test_lama_fills_the_scratches_when_installed(monkeypatch, scratched, ctx, tmp_path) -> None:
    root = tmp_path / "models"
    restoration_models.install(monkeypatch, root, "lama", restoration_models.lama())
    output = restore(scratched[0], ctx.derive(model_dir=root), denoise=False)
    step = steps(output)["scratch-removal"]
    assert step["ran"] and step["model"] == "lama" and "onnxruntime" in step["engine"]
    assert "note" not in step and output.model == "lama"


def test_faces_are_restored_when_a_model_is_installed(monkeypatch, astronaut, ctx, tmp_path):
    root = tmp_path / "models"
    restoration_models.add_face_detector(root)
    restoration_models.install(monkeypatch, root, "gfpgan-v1.4", restoration_models.face())
    output = restore(astronaut, ctx.derive(model_dir=root), scratchRemoval=False, denoise=False)
    step = steps(output)["face-enhancement"]
    assert step["ran"] and step["model"] == "gfpgan-v1.4" and step["faces"] == 1
    assert output.model == "mediapipe-face-detector, gfpgan-v1.4"


def test_no_face_is_fine(monkeypatch, photo, ctx, tmp_path) -> None:
    root = tmp_path / "models"
    restoration_models.add_face_detector(root)
    restoration_models.install(monkeypatch, root, "gfpgan-v1.4", restoration_models.face())
    output = restore(photo, ctx.derive(model_dir=root), scratchRemoval=False, denoise=False)
    step = steps(output)["face-enhancement"]
    assert not step["ran"] and step["why"] == "no face found" and "mediapipe" in step["engine"]


def test_alpha_is_kept(transparent, no_models, img) -> None:
    output = restore(transparent, no_models)
    assert np.array_equal(img.decode(output.path)[..., 3], img.decode(transparent.path)[..., 3])


def test_settings_are_bounded() -> None:
    assert TOOL is not None
    for bad in ({"mode": "extreme"}, {"fidelity": 1.5}, {"denoiseStrength": 101}):
        with pytest.raises(ToolError) as caught:
            runner.validate_settings(TOOL, bad)
        assert caught.value.status == 400
