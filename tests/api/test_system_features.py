"""GET /api/v1/system/features: each AI tool's readiness from the models really installed
(the shipped ones, tests/shipped_models.py) and the engines really importable here."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.api.support import assert_error
from tests.shipped_models import shipped_models_dir
from tools import registry
from tools.ai import engines

pytestmark = pytest.mark.django_db

# Registered tools that use models, and the catalog's tool ids no module registers yet.
AI_TOOLS = {t.id for t in registry.all_tools() if t.models} | {"video-upscale"}
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


def test_every_ai_tool_has_an_entry_with_its_models_and_needs(user_client):
    tools = features_of(user_client)

    assert set(tools) == AI_TOOLS
    assert {"upscale", "ocr", "remove-background", "enhance-faces", "passport-photo"} <= AI_TOOLS
    upscalers = {m["id"] for m in tools["upscale"]["models"]}
    upscale = registry.get("upscale")
    assert upscale is not None
    assert upscalers == set(upscale.models) >= {"realesrgan-x4plus", "realcugan-se-conservative"}
    for entry in tools.values():
        assert set(entry) == {"tool", "available", "needs", "models", "missing", "fix"}
        for model in entry["models"]:
            assert set(model) == {"id", "installed", "engine", "engineAvailable"}


def test_with_an_empty_models_dir_only_tools_that_need_no_model_are_available(user_client):
    tools = features_of(user_client)

    upscale = tools["upscale"]
    assert upscale["available"] is False
    assert all(m["installed"] is False for m in upscale["models"])
    assert "manage.py models install realesrgan-x4plus" in upscale["fix"]
    assert "model realesrgan-x4plus is not installed" in upscale["missing"]
    for tool_id in ("blur-faces", "remove-background", "enhance-faces", "passport-photo"):
        assert tools[tool_id]["available"] is False, tool_id
    # OpenCV inpaints without LaMa; restore-photo's steps run classically without models.
    assert tools["erase-object"]["available"] is True
    assert tools["restore-photo"]["available"] is True
    assert tools["erase-object"]["needs"] == []
    # Tesseract is a system package: OCR works with it alone, where the machine has it.
    assert tools["ocr"]["available"] is (shutil.which("tesseract") is not None)


def test_a_tool_needing_two_kinds_of_model_is_unavailable_until_both_are_there(
    user_client, settings
):
    settings.MODELS_DIR = shipped_models_dir()  # the face detector, not GFPGAN/CodeFormer

    enhance = features_of(user_client)["enhance-faces"]

    assert enhance["available"] is False
    assert ["gfpgan-v1.4", "codeformer"] in enhance["needs"]
    assert ["mediapipe-face-detector"] in enhance["needs"]
    assert (
        "POST /api/v1/models/gfpgan-v1.4/download (or manage.py models install gfpgan-v1.4)"
        in (enhance["fix"])
    )
    detector = next(m for m in enhance["models"] if m["id"] == "mediapipe-face-detector")
    assert detector["installed"] is True


def test_a_model_the_catalog_lacks_is_named_as_missing(user_client, settings):
    settings.MODELS_DIR = shipped_models_dir()

    colorize = features_of(user_client)["colorize"]

    assert colorize["available"] is False
    assert "model ddcolor is not in this server's catalog" in colorize["missing"]


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
    ppocr = {m["id"]: m["installed"] for m in tools["ocr"]["models"]}
    assert ppocr["ppocr-v6-det"] is False  # no PP-OCR model in this MODELS_DIR


def test_a_damaged_model_is_not_installed_and_says_so(user_client, settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    folder = settings.MODELS_DIR / "realesrgan-x4plus"
    folder.mkdir(parents=True)
    (folder / "realesrgan-x4plus.onnx").write_bytes(b"not the model")

    upscale = features_of(user_client)["upscale"]

    assert "model realesrgan-x4plus is damaged (wrong sha256)" in upscale["missing"]
    assert "manage.py models install realesrgan-x4plus" in upscale["fix"]


def test_tflite_tools_are_available_with_the_mediapipe_files(user_client, settings):
    settings.MODELS_DIR = shipped_models_dir()  # the MediaPipe files are installed

    tools = features_of(user_client)

    blur = tools["blur-faces"]
    assert {m["engine"] for m in blur["models"]} == {"tflite"}
    assert all(m["installed"] and m["engineAvailable"] for m in blur["models"])
    assert blur["available"] is True
    for tool_id in ("smart-crop", "red-eye-removal", "passport-photo"):
        assert tools[tool_id]["available"] is True, tool_id


def test_a_missing_tflite_engine_names_its_pip_fix(user_client, settings, monkeypatch):
    settings.MODELS_DIR = shipped_models_dir()
    missing = engines.EngineStatus(
        "tflite", False, None, "mediapipe is not installed", engines.TFLITE_FIX
    )
    monkeypatch.setattr(engines, "check", lambda name: missing if name == "tflite" else real(name))
    real = engines._cached_check

    blur = features_of(user_client)["blur-faces"]

    assert blur["available"] is False
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
