"""POST /api/v1/tools/{erase-object, colorize, enhance-faces, restore-photo} through the
real HTTP stack: the engine headers say honestly what ran (OpenCV, never a model it was
not), and a missing model is 503 MODEL_NOT_INSTALLED naming it."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from tests.api.support import assert_error
from tests.badfiles import FIXTURES
from tests.shipped_models import shipped_models_dir

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_models(settings: Any) -> None:
    settings.MODELS_DIR = shipped_models_dir()


def post_tool(client: Any, tool_id: str, settings: dict[str, Any]) -> Any:
    """POST tests/fixtures/photo.jpg (600x400) to a tool."""
    photo = SimpleUploadedFile("photo.jpg", (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")
    data = {"file": photo, "settings": json.dumps(settings)}
    return client.post(f"/api/v1/tools/{tool_id}", data, format="multipart")


def mask_b64(size: tuple[int, int] = (600, 400)) -> str:
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((460, 30, 540, 110), fill=255)
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def info(response: Any) -> dict[str, Any]:
    return json.loads(response["X-Result-Info"])


def decoded(response: Any) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(b"".join(response.streaming_content), "")


@pytest.mark.usefixtures("with_models")
def test_erase_object_without_lama_runs_opencv_telea_and_says_so(user_client) -> None:
    response = post_tool(user_client, "erase-object", {"maskData": mask_b64()})

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/jpeg"
    assert "OpenCV" in response["X-Engine"] and "Telea" in response["X-Engine"]
    assert "X-Model" not in response and "X-Model-Sha256" not in response
    assert response["X-Device"] == "cpu"
    assert "LaMa (model lama) is not installed" in info(response)["note"]
    image = decoded(response)
    assert (image.width, image.height) == (600, 400)


@pytest.mark.usefixtures("with_models")
def test_erase_object_errors(user_client) -> None:
    body = assert_error(
        post_tool(user_client, "erase-object", {"maskData": mask_b64((60, 40))}),
        400,
        "MASK_SIZE_MISMATCH",
    )
    assert "60x40" in body["error"] and "600x400" in body["error"]
    assert_error(post_tool(user_client, "erase-object", {}), 400, "INVALID_SETTINGS")
    body = assert_error(
        post_tool(user_client, "erase-object", {"maskData": mask_b64(), "engine": "lama"}),
        503,
        "MODEL_NOT_INSTALLED",
    )
    assert "lama" in body["error"]


@pytest.mark.usefixtures("with_models")
def test_colorize_without_ddcolor_is_503(user_client) -> None:
    body = assert_error(post_tool(user_client, "colorize", {}), 503, "MODEL_NOT_INSTALLED")
    assert "ddcolor" in body["error"]


@pytest.mark.usefixtures("with_models")
def test_enhance_faces_without_the_model_is_503(user_client) -> None:
    body = assert_error(post_tool(user_client, "enhance-faces", {}), 503, "MODEL_NOT_INSTALLED")
    assert "gfpgan-v1.4" in body["error"] and "models install gfpgan-v1.4" in body["error"]
    body = assert_error(
        post_tool(user_client, "enhance-faces", {"model": "codeformer"}),
        503,
        "MODEL_NOT_INSTALLED",
    )
    assert "codeformer" in body["error"]


@pytest.mark.usefixtures("with_models")
def test_restore_photo_runs_the_classical_steps_and_lists_every_step(user_client) -> None:
    response = post_tool(user_client, "restore-photo", {"mode": "light"})

    assert response.status_code == 200, response.content[:300]
    assert "bilateralFilter" in response["X-Engine"]  # light mode's denoise tier
    assert "X-Model" not in response  # no model ran: none is claimed
    steps = {step["step"]: step for step in info(response)["steps"]}
    assert list(steps) == ["scratch-removal", "denoise", "face-enhancement", "colorize"]
    assert steps["denoise"]["ran"]
    assert steps["face-enhancement"] == {
        "step": "face-enhancement",
        "ran": False,
        "why": "model gfpgan-v1.4 is not installed (manage.py models install gfpgan-v1.4)",
    }
    assert steps["colorize"]["why"] == "turned off in the settings"


def test_restore_photo_needs_no_model(user_client, settings, tmp_path: Path) -> None:
    settings.MODELS_DIR = tmp_path
    response = post_tool(user_client, "restore-photo", {"scratchRemoval": False})
    assert response.status_code == 200, response.content[:300]
    assert "fastNlMeansDenoisingColored" in response["X-Engine"]
