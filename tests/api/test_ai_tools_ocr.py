"""POST /api/v1/tools/ocr through the real HTTP stack, with the shipped PP-OCR weights and
the system's Tesseract: JSON with the model headers, a searchable PDF, 400 and 503."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.support import assert_error
from tests.shipped_models import shipped_models_dir
from tests.tools.test_tool_ocr import LINES, normalised, render_page
from tools.ai.catalog import catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_png(tmp_path: Path) -> bytes:
    return render_page(tmp_path / "page.png").path.read_bytes()


def post(client: Any, page: bytes, settings: dict[str, Any]) -> Any:
    upload = SimpleUploadedFile("page.png", page, "image/png")
    data = {"file": upload, "settings": json.dumps(settings)}
    return client.post("/api/v1/tools/ocr", data, format="multipart")


@pytest.fixture
def with_models(settings: Any) -> None:
    settings.MODELS_DIR = shipped_models_dir()


@pytest.mark.usefixtures("with_models")
def test_balanced_answers_the_text_as_json_naming_models_and_device(user_client, page_png):
    response = post(user_client, page_png, {"quality": "balanced"})

    assert response.status_code == 200, response.content[:300]
    data = response.json()
    assert [line["text"] for line in data["lines"]] == list(LINES)
    assert data["text"] == "\n".join(LINES) and data["quality"] == "balanced"
    specs = catalog()
    assert response["X-Model"] == "ppocr-v6-det, ppocr-v6-rec"
    assert response["X-Model-Sha256"] == ", ".join(
        specs[m].files[0].sha256 or "" for m in ("ppocr-v6-det", "ppocr-v6-rec")
    )
    assert response["X-Device"] == "cpu"
    assert "rapidocr" in response["X-Engine"] and "onnxruntime" in response["X-Engine"]
    assert json.loads(response["X-Result-Info"])["lines"] == 3


@pytest.mark.usefixtures("with_models")
def test_fast_returns_a_searchable_pdf(user_client, page_png):
    response = post(user_client, page_png, {"quality": "fast", "output": "pdf"})

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="page_ocr.pdf"' in response["Content-Disposition"]
    assert response["X-Model"] == "tesseract-eng" and "Tesseract 5" in response["X-Engine"]
    document = pdfium.PdfDocument(b"".join(response.streaming_content))
    text = document[0].get_textpage().get_text_range()
    assert normalised(text) == normalised(" ".join(LINES))


@pytest.mark.usefixtures("with_models")
def test_bad_settings_and_unknown_languages_are_400(user_client, page_png):
    assert_error(post(user_client, page_png, {"language": "eng;ls"}), 400, "INVALID_SETTINGS")
    body = assert_error(
        post(user_client, page_png, {"quality": "fast", "language": "tlh"}),
        400,
        "UNSUPPORTED_LANGUAGE",
    )
    assert "eng" in body["error"]


def test_missing_models_are_503_naming_them(user_client, settings, page_png, tmp_path):
    settings.MODELS_DIR = tmp_path
    body = assert_error(
        post(user_client, page_png, {"quality": "best"}), 503, "MODEL_NOT_INSTALLED"
    )
    assert "ppocr-v6-det" in body["error"]
