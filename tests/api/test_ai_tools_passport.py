"""passport-photo through POST /api/v1/tools/passport-photo and the real HTTP stack, on the
shipped MediaPipe weights: the photo, its headers and compliance info, the print sheet,
the catalog's country list, and the 400 / 422 / 503 refusals."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.api.support import assert_error
from tests.badfiles import FIXTURES
from tests.shipped_models import shipped_models_dir
from tests.tools.conftest import ASTRONAUT
from tools.ai.catalog import catalog

pytestmark = pytest.mark.django_db

MODELS = ("mediapipe-face-detector", "mediapipe-selfie-segmenter")


def post(client: Any, settings: dict[str, Any], path: Path = ASTRONAUT) -> Any:
    upload = SimpleUploadedFile(path.name, path.read_bytes(), "image/png")
    data = {"file": upload, "settings": json.dumps(settings)}
    return client.post("/api/v1/tools/passport-photo", data, format="multipart")


def opened(response: Any) -> Image.Image:
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


@pytest.fixture
def with_models(settings: Any) -> None:
    settings.MODELS_DIR = shipped_models_dir()


@pytest.mark.usefixtures("with_models")
def test_a_us_photo_is_600_px_square_at_300_dpi_and_names_both_models(user_client) -> None:
    response = post(user_client, {"country": "us"})

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/jpeg"
    assert 'filename="astronaut_passport-photo.jpg"' in response["Content-Disposition"]
    image = opened(response)
    assert image.size == (600, 600) and image.info["dpi"] == (300, 300)
    assert response["X-Model"] == ", ".join(MODELS) and response["X-Device"] == "cpu"
    sha = [catalog()[m].files[0].sha256 for m in MODELS]
    assert response["X-Model-Sha256"] == ", ".join(str(s) for s in sha)
    assert "mediapipe" in response["X-Engine"] and "OpenCV" in response["X-Engine"]
    info = json.loads(response["X-Result-Info"])
    assert info["country"] == "us" and info["size"]["px"] == [600, 600]
    checks = info["compliance"]
    assert checks["faceFound"] and checks["headHeightOk"] and checks["eyeLineOk"]
    assert checks["backgroundUniform"]


@pytest.mark.usefixtures("with_models")
def test_an_a4_sheet_of_uk_photos(user_client) -> None:
    response = post(user_client, {"country": "gb", "printLayout": "A4", "format": "png"})

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    image = opened(response)
    assert sorted(image.size) == [2480, 3508]
    info = json.loads(response["X-Result-Info"])
    assert info["sheet"]["copies"] >= 20 and info["size"]["px"] == [413, 531]


@pytest.mark.usefixtures("with_models")
def test_a_photo_without_a_face_is_422(user_client) -> None:
    assert_error(post(user_client, {}, FIXTURES / "photo.jpg"), 422, "NO_FACE_FOUND")


def test_an_unknown_country_is_400(user_client) -> None:
    assert_error(post(user_client, {"country": "zz"}), 400, "INVALID_SETTINGS")


def test_a_missing_model_is_503_naming_it(user_client) -> None:
    # settings.MODELS_DIR is this test's empty folder.
    body = assert_error(post(user_client, {}), 503, "MODEL_NOT_INSTALLED")
    assert "mediapipe-face-detector" in body["error"]


def test_the_catalog_lists_the_37_countries(user_client) -> None:
    response = user_client.get("/api/v1/tools/passport-photo")

    assert response.status_code == 200, response.content[:300]
    country = response.json()["settings"]["properties"]["country"]
    assert len(country["enum"]) == 37 and {"us", "gb", "de", "cn", "in"} <= set(country["enum"])
    assert country["x-countries"]["us"] == "United States (50.8x50.8 mm)"
