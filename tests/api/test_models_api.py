"""/api/v1/models: the catalog with what is installed, ids checked, the admin's import."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.support import assert_error
from tools.ai.catalog import ModelFile, ModelSpec, Source, catalog

pytestmark = pytest.mark.django_db

TINY = b"\x08\x07tiny onnx bytes" * 100


@pytest.fixture
def tiny_model(monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    """A catalog entry whose one file the tests hold (the shipped files are megabytes)."""
    spec = ModelSpec(
        id="tiny.v1",
        name="Tiny",
        description="A model for the tests",
        task="upscale",
        engine="onnxruntime",
        licence="MIT",
        source=Source(kind="package", package="tiny==1"),
        files=(
            ModelFile("tiny-x2.onnx", hashlib.sha256(TINY).hexdigest(), len(TINY), "t", scale=2),
        ),
        scales=(2,),
        tools=("upscale",),
    )
    monkeypatch.setitem(catalog(), spec.id, spec)
    return spec


def models_of(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.content[:300]
    return {m["id"]: m for m in response.json()["models"]}


def test_the_list_has_every_catalog_model_with_the_upscale_services_fields(user_client):
    body = user_client.get("/api/v1/models").json()
    models = {m["id"]: m for m in body["models"]}

    assert set(models) == set(catalog()) and body["version"]
    x4 = models["realesrgan-x4plus"]
    assert (x4["name"], x4["supported_scales"]) == ("realesrgan-x4plus", [4])
    assert x4["description"] == "General purpose, high quality"
    assert x4["installed"] is False and x4["status"] == "missing"  # a fresh DATA_DIR
    assert "models install realesrgan-x4plus" in x4["install"]
    assert x4["licence"] == {"name": "BSD-3-Clause", "nonCommercial": False}
    assert all(len(f["sha256"]) == 64 for f in x4["files"])


def test_the_list_filters_by_scale_and_task(user_client):
    by_scale = models_of(user_client.get("/api/v1/models?scale=3"))
    assert "realesr-animevideov3" in by_scale and "realesrgan-x4plus" not in by_scale
    assert all(3 in m["supported_scales"] for m in by_scale.values())
    by_task = models_of(user_client.get("/api/v1/models?task=ocr-det"))
    assert list(by_task) == ["ppocr-v6-det"]


@pytest.mark.parametrize("scale", ["0", "x", "-2", "99"])
def test_a_bad_scale_is_400(user_client, scale):
    assert_error(user_client.get(f"/api/v1/models?scale={scale}"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("model_id", ["a..b", ".hidden", "trail.", "x%20y"])
def test_an_id_that_breaks_the_rule_is_400(user_client, model_id):
    assert_error(user_client.get(f"/api/v1/models/{model_id}"), 400, "INVALID_MODEL_ID")


@pytest.mark.parametrize("path", ["no-such-model", "x/y"])
def test_an_unknown_model_is_404(user_client, path):
    response = user_client.get(f"/api/v1/models/{path}")
    assert response.status_code == 404 and response.json()["code"] in {
        "MODEL_NOT_FOUND",
        "NOT_FOUND",
    }


def test_an_admin_imports_a_model_file_and_it_is_installed(admin_client, tiny_model, settings):
    upload = SimpleUploadedFile("anything.bin", TINY)

    response = admin_client.post(
        "/api/v1/models/tiny.v1/import", {"file": upload}, format="multipart"
    )

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert (body["imported"], body["installed"], body["status"]) == (
        "tiny-x2.onnx",
        True,
        "installed",
    )
    assert (settings.MODELS_DIR / "tiny.v1" / "tiny-x2.onnx").read_bytes() == TINY
    assert models_of(admin_client.get("/api/v1/models?scale=2"))["tiny.v1"]["installed"] is True


def test_an_imported_file_with_the_wrong_sha256_is_refused(admin_client, tiny_model, settings):
    upload = SimpleUploadedFile("tiny.onnx", TINY + b"!")

    response = admin_client.post(
        "/api/v1/models/tiny.v1/import", {"file": upload}, format="multipart"
    )

    assert_error(response, 422, "MODEL_CHECKSUM_MISMATCH")
    assert not (settings.MODELS_DIR / "tiny.v1").exists() or not any(
        (settings.MODELS_DIR / "tiny.v1").iterdir()
    )


def test_a_damaged_model_file_shows_as_corrupt(user_client, tiny_model, settings):
    folder = settings.MODELS_DIR / "tiny.v1"
    folder.mkdir(parents=True)
    (folder / "tiny-x2.onnx").write_bytes(b"truncated")

    model = user_client.get("/api/v1/models/tiny.v1").json()

    assert (model["installed"], model["status"]) == (False, "corrupt")
    assert model["files"][0]["status"] == "corrupt"
