"""The face tools through POST /api/v1/tools/<id> and the real HTTP stack, on the shipped
MediaPipe weights: blur-faces, smart-crop, red-eye-removal and content-aware-resize's
protectFaces. Status, result, the X-Model/X-Model-Sha256/X-Device/X-Engine headers, the
422 for no face and the 503 for a missing model."""

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
from tests.tools.conftest import ASTRONAUT
from tools.ai.catalog import catalog

pytestmark = pytest.mark.django_db

SHORT = "mediapipe-face-detector"


def post(client: Any, tool_id: str, settings: dict[str, Any], path: Path = ASTRONAUT) -> Any:
    upload = SimpleUploadedFile(path.name, path.read_bytes(), "image/png")
    data = {"file": upload, "settings": json.dumps(settings)}
    return client.post(f"/api/v1/tools/{tool_id}", data, format="multipart")


def decoded(response: Any) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(b"".join(response.streaming_content), "")


def info(response: Any) -> dict[str, Any]:
    return json.loads(response["X-Result-Info"])


def assert_credited(response: Any, model: str) -> None:
    assert response.status_code == 200, response.content[:300]
    assert response["X-Model"] == model and response["X-Device"] == "cpu"
    assert response["X-Model-Sha256"] == catalog()[model].files[0].sha256
    assert "mediapipe" in response["X-Engine"] and "TFLite, CPU" in response["X-Engine"]


@pytest.fixture
def with_models(settings: Any) -> None:
    settings.MODELS_DIR = shipped_models_dir()


@pytest.mark.usefixtures("with_models")
def test_blur_faces_blurs_the_face_and_lists_it(user_client) -> None:
    response = post(user_client, "blur-faces", {"mode": "pixelate"})
    assert_credited(response, SHORT)
    assert response["Content-Type"] == "image/png"
    found = info(response)
    assert found["faceCount"] == 1 and found["faces"][0]["score"] > 0.8
    image = decoded(response)
    assert (image.width, image.height) == (512, 512)


@pytest.mark.usefixtures("with_models")
def test_blur_faces_without_a_face_is_a_success(user_client) -> None:
    response = post(user_client, "blur-faces", {}, FIXTURES / "photo.jpg")
    assert_credited(response, SHORT)
    assert info(response)["faceCount"] == 0


@pytest.mark.usefixtures("with_models")
def test_smart_crop_frames_the_face_at_the_size_asked(user_client) -> None:
    response = post(user_client, "smart-crop", {"mode": "face", "width": 200, "height": 250})
    assert_credited(response, SHORT)
    image = decoded(response)
    assert (image.width, image.height) == (200, 250)
    assert info(response)["subject"] == "face"


@pytest.mark.usefixtures("with_models")
def test_smart_crop_subject_names_the_segmenter(user_client) -> None:
    response = post(user_client, "smart-crop", {"width": 160, "height": 90})
    assert_credited(response, "mediapipe-selfie-segmenter")
    image = decoded(response)
    assert (image.width, image.height) == (160, 90)
    assert info(response)["subject"] == "segmenter"


@pytest.mark.usefixtures("with_models")
def test_red_eye_removal_runs_on_a_face(user_client) -> None:
    response = post(user_client, "red-eye-removal", {})
    assert_credited(response, SHORT)
    assert info(response)["eyesCorrected"] == 0  # her eyes are not red
    assert len(info(response)["eyes"]) == 2


@pytest.mark.usefixtures("with_models")
def test_no_face_is_422(user_client) -> None:
    photo = FIXTURES / "photo.jpg"
    assert_error(post(user_client, "red-eye-removal", {}, photo), 422, "NO_FACE_FOUND")
    assert_error(post(user_client, "smart-crop", {"mode": "face"}, photo), 422, "NO_FACE_FOUND")


@pytest.mark.usefixtures("with_models")
def test_content_aware_resize_credits_the_detector_when_protecting_faces(user_client) -> None:
    response = post(user_client, "content-aware-resize", {"width": 448, "protectFaces": True})
    assert_credited(response, "mediapipe-face-detector-full")
    assert "seam carving" in response["X-Engine"]
    assert info(response)["facesProtected"] == 1
    assert decoded(response).width == 448


@pytest.mark.usefixtures("with_models")
def test_bad_settings_are_400(user_client) -> None:
    assert_error(post(user_client, "blur-faces", {"blurRadius": 0}), 400, "INVALID_SETTINGS")
    assert_error(
        post(user_client, "smart-crop", {"facePreset": "close-up"}), 400, "INVALID_SETTINGS"
    )
    assert_error(post(user_client, "red-eye-removal", {"strength": 101}), 400, "INVALID_SETTINGS")


@pytest.mark.parametrize(
    ("tool_id", "raw", "model"),
    [
        ("blur-faces", {}, SHORT),
        ("blur-faces", {"fullRange": True}, "mediapipe-face-detector-full"),
        ("smart-crop", {}, "mediapipe-selfie-segmenter"),
        ("red-eye-removal", {}, SHORT),
        (
            "content-aware-resize",
            {"width": 400, "protectFaces": True},
            "mediapipe-face-detector-full",
        ),
    ],
)
def test_a_missing_model_is_503_naming_it(
    user_client, settings, tmp_path: Path, tool_id: str, raw: dict, model: str
) -> None:
    settings.MODELS_DIR = tmp_path
    body = assert_error(post(user_client, tool_id, raw), 503, "MODEL_NOT_INSTALLED")
    assert f"'{model}'" in body["error"]


def test_trim_and_plain_seam_carving_need_no_model(user_client, settings, tmp_path: Path) -> None:
    settings.MODELS_DIR = tmp_path
    response = post(user_client, "smart-crop", {"mode": "trim"})
    assert response.status_code == 200 and "X-Model" not in response
    response = post(user_client, "content-aware-resize", {"width": 500})
    assert response.status_code == 200 and "X-Model" not in response
