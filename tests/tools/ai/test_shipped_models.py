"""The shipped models with their real weights (CPU): installed and verified by the same
installer `make run` uses, then each family run once on a small image, checking what it
does rather than exact numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from tests.shipped_models import shipped_models_dir
from tests.tools.conftest import FIXTURES
from tools.ai import install, onnx_session, realesrgan
from tools.ai.catalog import ModelSpec, catalog
from tools.base import Context

SHIPPED = [spec for spec in catalog().values() if spec.source.kind == "package"]


@pytest.fixture(scope="module")
def models() -> Path:
    return shipped_models_dir()


def session(models: Path, model_id: str, scale: int | None = None) -> onnx_session.Session:
    spec = catalog()[model_id]
    file = spec.file_for_scale(scale) if scale else spec.files[0]
    assert file is not None and file.sha256 is not None
    path = install.require(models, spec, file)
    return onnx_session.load(path, model_id=model_id, sha256=file.sha256, device="cpu")


@pytest.mark.parametrize("spec", SHIPPED, ids=lambda s: s.id)
def test_every_shipped_model_is_installed_and_verified(models: Path, spec: ModelSpec):
    assert install.status(models, spec) == "installed"
    for file in spec.files:
        assert install.sha256_of(install.file_path(models, spec, file)) == file.sha256


def test_the_tflite_models_are_tflite_files(models: Path):
    for spec in SHIPPED:
        if spec.engine == "tflite":
            head = install.file_path(models, spec, spec.files[0]).read_bytes()[:8]
            assert head[4:8] == b"TFL3", spec.id


def disc_on_grey(size: int = 320) -> np.ndarray:
    """A dark disc in the middle of a flat light grey square (H, W, 3) uint8."""
    yy, xx = np.mgrid[:size, :size]
    inside = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 4) ** 2
    image = np.full((size, size, 3), 210, np.uint8)
    image[inside] = (40, 60, 150)
    return image


def test_u2netp_picks_out_the_subject(models: Path):
    """rembg's pre-processing: 320², ImageNet mean/std; the mask is min-max normalised."""
    image = disc_on_grey().astype(np.float32) / 255
    x = (image - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)
    u2netp = session(models, "u2netp")

    mask = u2netp.run({u2netp.input_names[0]: x.transpose(2, 0, 1)[None].astype(np.float32)})[0]
    mask = mask[0, 0]
    mask = (mask - mask.min()) / (mask.max() - mask.min())

    assert mask[150:170, 150:170].mean() > 0.8  # the disc
    assert mask[:30, :30].mean() < 0.2 and mask[-30:, -30:].mean() < 0.2  # the background
    assert u2netp.provider == "CPUExecutionProvider"


def test_pp_ocr_detection_finds_the_line_of_text(models: Path):
    """rapidocr's pre-processing: sides a multiple of 32, (x/255 - 0.5) / 0.5."""
    text = pyvips.Image.text("PIXELSMITH 2026", dpi=200, font="DejaVu Sans")
    canvas = pyvips.Image.black(640, 160).invert().insert(text.invert(), 40, 50)
    image = canvas.colourspace("srgb").numpy()[..., :3].astype(np.float32)
    detector = session(models, "ppocr-v6-det")

    feed = ((image / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None].astype(np.float32)
    probability = detector.run({detector.input_names[0]: feed})[0][0, 0]

    text_box = probability[50 : 50 + text.height, 40 : 40 + text.width]
    assert (text_box > 0.3).mean() > 0.3  # most of the line is found
    assert (probability[:30] > 0.3).mean() < 0.01  # the blank margin is not
    assert (probability[-30:] > 0.3).mean() < 0.01


@pytest.mark.parametrize(
    ("model_id", "scale"), [("realesr-animevideov3", 2), ("realesrgan-x4plus-anime", 4)]
)
def test_real_esrgan_upscales_a_photo_faithfully(models: Path, tmp_path: Path, model_id, scale):
    photo = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(200, 150, 40, 32)
    rgb = photo.numpy()[..., :3]
    ctx = Context(tmp_path)

    big = realesrgan.upscale(session(models, model_id, scale), rgb, scale=scale, ctx=ctx)

    assert big.shape == (32 * scale, 40 * scale, 3) and big.dtype == np.uint8
    back = pyvips.Image.new_from_array(big).resize(1 / scale, kernel="linear").numpy()
    assert np.abs(back.astype(float) - rgb.astype(float)).mean() < 6  # same picture
    assert big.std() > 10  # not a flat image
