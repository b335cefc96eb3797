"""enhance-faces: 503 without the restoration model, 422 without a face, and the
detect -> align -> restore -> paste-back plumbing on the astronaut portrait, with the real
MediaPipe face detector and tiny stand-ins for GFPGAN / CodeFormer (never the real
weights: these tests say nothing about restoration quality)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.tools import restoration_models
from tests.tools.conftest import ASTRONAUT
from tools import registry, runner
from tools.ai import face_restore
from tools.ai.catalog import catalog
from tools.base import Context, Source, ToolError

TOOL = registry.get("enhance-faces")
FACE_BOX = (177, 82, 95, 95)  # x, y, w, h: where MediaPipe finds the astronaut's face


def enhance(source: Source, ctx: Context, **settings):
    assert TOOL is not None
    return runner.execute(TOOL, [source], runner.validate_settings(TOOL, settings), ctx)


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    restoration_models.add_face_detector(root)
    return root


@pytest.fixture
def with_model(monkeypatch, ctx: Context, models_dir: Path):
    """Install a GFPGAN stand-in (input * scale + shift) and return the context."""

    def install(scale: float = 1.0, shift: float = 0.0, model_id: str = "gfpgan-v1.4") -> Context:
        model = (
            restoration_models.codeformer()
            if model_id == "codeformer"
            else restoration_models.face(scale, shift)
        )
        restoration_models.install(monkeypatch, models_dir, model_id, model)
        return ctx.derive(model_dir=models_dir)

    return install


def pixels(path: Path, img) -> np.ndarray:
    return img.decode(path)[..., :3]


def face_region(image: np.ndarray) -> np.ndarray:
    x, y, w, h = FACE_BOX
    return image[y : y + h, x : x + w]


@pytest.mark.parametrize("model", ["gfpgan", "codeformer"])
def test_without_the_model_it_is_503_naming_it(model, astronaut, ctx, models_dir) -> None:
    with pytest.raises(ToolError) as caught:
        enhance(astronaut, ctx.derive(model_dir=models_dir), model=model)
    model_id = face_restore.MODELS[model]
    assert (caught.value.status, caught.value.code) == (503, "MODEL_NOT_INSTALLED")
    assert f"'{model_id}'" in caught.value.message
    assert f"models install {model_id}" in caught.value.message


def test_an_image_without_a_face_is_422(photo, with_model) -> None:
    with pytest.raises(ToolError) as caught:
        enhance(photo, with_model())
    assert (caught.value.status, caught.value.code) == (422, "NO_FACE_FOUND")


def test_an_identity_model_at_full_strength_leaves_the_image_as_it_was(
    astronaut, with_model, img
) -> None:
    output = enhance(astronaut, with_model(), strength=1.0)

    before, after = pixels(astronaut.path, img), pixels(output.path, img)
    changed = np.abs(after - before).max(axis=2) > 0
    assert changed.any()  # the face really went through the model and back
    assert img.mad(face_region(after), face_region(before)) < 2.0  # resampling error only
    ys, xs = np.nonzero(changed)  # nothing changed away from the aligned face crop
    assert xs.min() > 100 and xs.max() < 340 and ys.min() > 0 and ys.max() < 240
    assert output.extras["faces"] == 1 and output.extras["restoreModel"] == "gfpgan-v1.4"


def test_the_restored_face_lands_on_the_face_and_strength_blends_it(
    astronaut, with_model, img
) -> None:
    """A stand-in that answers black: where black appears shows where the crop went."""
    before = pixels(astronaut.path, img)
    full = pixels(enhance(astronaut, with_model(0.0, -1.0), strength=1.0).path, img)
    half = pixels(enhance(astronaut, with_model(0.0, -1.0), strength=0.5).path, img)

    x, y, w, h = FACE_BOX
    centre = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    assert full[centre].max() < 3  # the eyes, nose and mouth area is all model output
    assert np.allclose(half[centre], before[centre] / 2, atol=2)
    for corner in ((slice(0, 20), slice(0, 20)), (slice(400, 512), slice(400, 512))):
        assert np.array_equal(full[corner], before[corner])


def test_output_names_detector_and_model_with_their_sha256(astronaut, with_model) -> None:
    output = enhance(astronaut, with_model())
    detector = catalog()["mediapipe-face-detector"].files[0].sha256
    restorer = catalog()["gfpgan-v1.4"].files[0].sha256
    assert output.model == "mediapipe-face-detector, gfpgan-v1.4"
    assert output.model_sha256 == f"{detector}, {restorer}"
    assert "mediapipe" in output.engine and "onnxruntime" in output.engine
    assert output.device == "cpu"


def test_codeformer_gets_its_fidelity_as_a_double_weight(astronaut, with_model, img) -> None:
    """The stand-in returns input * weight: fidelity 1 keeps the face, 0 greys it."""
    ctx = with_model(model_id="codeformer")
    before = pixels(astronaut.path, img)
    kept = pixels(enhance(astronaut, ctx, model="codeformer", fidelity=1.0, strength=1).path, img)
    greyed = pixels(enhance(astronaut, ctx, model="codeformer", fidelity=0.0, strength=1).path, img)

    assert img.mad(face_region(kept), face_region(before)) < 2.0
    x, y, w, h = FACE_BOX
    centre = greyed[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
    assert np.abs(centre - 127.5).max() < 2


def test_center_face_restores_only_the_middle_face(tmp_path, make_source, with_model, img):
    """Two copies of the portrait's head, one near the centre: only that one changes."""
    head = Image.open(ASTRONAUT).convert("RGB")
    head = head.crop((130, 30, 320, 220))  # 190x190 around the face
    canvas = Image.new("RGB", (760, 380), (200, 200, 200))
    canvas.paste(head, (30, 95))  # left, off centre
    canvas.paste(head, (285, 95))  # centred
    path = tmp_path / "two.png"
    canvas.save(path)
    ctx = with_model(0.0, -1.0)

    both = pixels(enhance(make_source(path), ctx, strength=1.0).path, img)
    one = pixels(enhance(make_source(path), ctx, strength=1.0, centerFace=True).path, img)

    def dark(image: np.ndarray, x: int) -> bool:
        return bool(image[140:230, x + 60 : x + 130].mean() < 20)

    assert dark(both, 30) and dark(both, 285)
    assert dark(one, 285) and not dark(one, 30)


def test_the_similarity_transform_is_recovered_exactly() -> None:
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -40.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = np.array([[10.0, 20.0], [60.0, 25.0], [35.0, 50.0], [36.0, 80.0]])
    target = source @ (scale * rotation).T + shift
    matrix = face_restore.similarity(source, target)
    assert np.allclose(matrix[:, :2], scale * rotation) and np.allclose(matrix[:, 2], shift)


def test_settings_are_bounded() -> None:
    assert TOOL is not None
    for bad in ({"strength": 1.5}, {"sensitivity": -0.1}, {"model": "gpen"}, {"fidelity": 2}):
        with pytest.raises(ToolError) as caught:
            runner.validate_settings(TOOL, bad)
        assert caught.value.status == 400
