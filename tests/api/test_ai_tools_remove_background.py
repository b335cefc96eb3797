"""POST /api/v1/tools/remove-background through the real HTTP stack, with the shipped
u2netp and selfie weights: the cut-out, the model headers, the mask, 400 and 503."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.support import assert_error
from tests.shipped_models import shipped_models_dir
from tests.tools.conftest import ASTRONAUT
from tools.ai.catalog import catalog

pytestmark = pytest.mark.django_db


def post(client: Any, settings: dict[str, Any]) -> Any:
    upload = SimpleUploadedFile("astronaut.png", ASTRONAUT.read_bytes(), "image/png")
    data = {"file": upload, "settings": json.dumps(settings)}
    return client.post("/api/v1/tools/remove-background", data, format="multipart")


def decoded(response: Any) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(b"".join(response.streaming_content), "")


@pytest.fixture
def with_models(settings: Any) -> None:
    settings.MODELS_DIR = shipped_models_dir()


@pytest.mark.usefixtures("with_models")
def test_it_cuts_out_the_astronaut_and_names_model_and_device(user_client) -> None:
    response = post(user_client, {})

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    assert response["X-Model"] == "u2netp" and response["X-Device"] == "cpu"
    assert response["X-Model-Sha256"] == catalog()["u2netp"].files[0].sha256
    assert "rembg" in response["X-Engine"] and "onnxruntime" in response["X-Engine"]
    image = decoded(response)
    assert (image.width, image.height, image.bands) == (512, 512, 4)
    assert image(230, 110)[3] > 200 and image(2, 2)[3] < 30  # the face; a corner


@pytest.mark.usefixtures("with_models")
def test_the_selfie_model_returns_a_one_band_mask(user_client) -> None:
    response = post(user_client, {"model": "selfie", "returnMask": True})

    assert response.status_code == 200, response.content[:300]
    assert response["X-Model"] == "mediapipe-selfie-segmenter"
    sha256 = catalog()["mediapipe-selfie-segmenter"].files[0].sha256
    assert response["X-Model-Sha256"] == sha256
    mask = decoded(response)
    assert (mask.width, mask.height, mask.bands) == (512, 512, 1)
    assert mask(230, 110)[0] > 200 and mask(509, 2)[0] < 30


@pytest.mark.usefixtures("with_models")
def test_bad_settings_are_400(user_client) -> None:
    assert_error(post(user_client, {"model": "u2net-huge"}), 400, "INVALID_SETTINGS")
    body = assert_error(post(user_client, {"format": "jpeg"}), 400, "INVALID_SETTINGS")
    assert "JPEG has no transparency" in body["error"]


def test_a_missing_model_is_503_naming_it(user_client, settings, tmp_path: Path) -> None:
    settings.MODELS_DIR = tmp_path
    body = assert_error(post(user_client, {}), 503, "MODEL_NOT_INSTALLED")
    assert "u2netp" in body["error"]
