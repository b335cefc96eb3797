"""GET /api/v1/system/features: each AI tool's readiness from the models really installed
(the shipped ones, tests/shipped_models.py) and the engines really importable here."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.api.support import assert_error
from tests.shipped_models import shipped_models_dir
from tools.ai import engines
from tools.ai.catalog import catalog

pytestmark = pytest.mark.django_db

AI_TOOLS = {
    "upscale",
    "remove-background",
    "ocr",
    "blur-faces",
    "smart-crop",
    "enhance-faces",
    "red-eye-removal",
    "passport-photo",
    "video-upscale",
}
REAL_ESRGAN = ("realesrgan-x4plus", "realesrgan-x4plus-anime", "realesr-animevideov3")


def features_of(client: Any) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/system/features")
    assert response.status_code == 200, response.content[:300]
    return {entry["tool"]: entry for entry in response.json()["tools"]}


@pytest.fixture
def real_esrgan_only(settings, tmp_path: Path) -> Path:
    """MODELS_DIR with the installed Real-ESRGAN models (linked from the shipped ones)."""
    shipped = shipped_models_dir()
    settings.MODELS_DIR = tmp_path / "models"
    settings.MODELS_DIR.mkdir()
    for model_id in REAL_ESRGAN:
        (settings.MODELS_DIR / model_id).symlink_to(shipped / model_id, target_is_directory=True)
    return settings.MODELS_DIR


def test_every_ai_tool_of_the_catalog_has_an_entry_with_its_models(user_client):
    tools = features_of(user_client)

    assert set(tools) == AI_TOOLS
    upscalers = {m["id"] for m in tools["upscale"]["models"]}
    assert upscalers == {s.id for s in catalog().values() if "upscale" in s.tools}
    for entry in tools.values():
        assert set(entry) == {"tool", "available", "models", "missing", "fix"}
        for model in entry["models"]:
            assert set(model) == {"id", "installed", "engine", "engineAvailable"}


def test_with_an_empty_models_dir_nothing_is_available_and_the_fix_installs(user_client):
    tools = features_of(user_client)

    upscale = tools["upscale"]
    assert upscale["available"] is False
    assert all(m["installed"] is False for m in upscale["models"])
    assert "manage.py models install realesrgan-x4plus" in upscale["fix"]
    assert "model realesrgan-x4plus is not installed" in upscale["missing"]
    assert not any(entry["available"] for entry in tools.values())


def test_upscale_is_available_once_the_real_esrgan_models_are_installed(
    user_client, real_esrgan_only
):
    tools = features_of(user_client)

    upscale = tools["upscale"]
    assert upscale["available"] is True
    installed = {m["id"] for m in upscale["models"] if m["installed"]}
    assert installed == set(REAL_ESRGAN)
    assert all(m["engineAvailable"] for m in upscale["models"] if m["engine"] == "onnxruntime")
    # What it still lacks is listed: Real-CUGAN is not installed here.
    assert "manage.py models install realcugan-se-conservative" in upscale["fix"]
    assert "manage.py models install realesrgan-x4plus" not in upscale["fix"]
    assert tools["video-upscale"]["available"] is True  # animevideov3 serves it too
    assert tools["ocr"]["available"] is False  # no OCR model in this MODELS_DIR


def test_a_damaged_model_is_not_installed_and_says_so(user_client, settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    folder = settings.MODELS_DIR / "realesrgan-x4plus"
    folder.mkdir(parents=True)
    (folder / "realesrgan-x4plus.onnx").write_bytes(b"not the model")

    upscale = features_of(user_client)["upscale"]

    assert "model realesrgan-x4plus is damaged (wrong sha256)" in upscale["missing"]
    assert "manage.py models install realesrgan-x4plus" in upscale["fix"]


def test_tflite_tools_report_the_engine_and_its_pip_fix(user_client, settings):
    settings.MODELS_DIR = shipped_models_dir()  # the MediaPipe files are installed
    tflite = engines.check("tflite")

    blur = features_of(user_client)["blur-faces"]

    assert {m["engine"] for m in blur["models"]} == {"tflite"}
    assert all(m["installed"] for m in blur["models"])
    assert blur["available"] is tflite.available
    if not tflite.available:  # mediapipe is not installed yet in this project
        assert blur["fix"] == ["pip install --no-deps mediapipe==1.2.2"]
        assert any("needs the tflite engine" in reason for reason in blur["missing"])


def test_the_shipped_onnx_models_make_ocr_and_background_removal_available(user_client, settings):
    settings.MODELS_DIR = shipped_models_dir()

    tools = features_of(user_client)

    assert tools["ocr"]["available"] is True  # PP-OCR on onnxruntime
    assert tools["remove-background"]["available"] is True  # u2netp on onnxruntime


def test_tesseract_is_reported_as_this_machine_has_it(user_client):
    on_path = shutil.which("tesseract") is not None

    ocr = features_of(user_client)["ocr"]

    tesseract = next(m for m in ocr["models"] if m["id"] == "tesseract-eng")
    assert tesseract["engine"] == "tesseract"
    assert tesseract["engineAvailable"] is on_path
    if not on_path:
        assert "apt-get install tesseract-ocr tesseract-ocr-eng" in ocr["fix"]


def test_features_need_a_signed_in_caller(anon):
    assert_error(anon.get("/api/v1/system/features"), 401, "AUTH_REQUIRED")
