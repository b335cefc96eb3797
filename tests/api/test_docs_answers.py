"""The hand-built JSON answers match the schemas the OpenAPI spec gives them
(apps/toolsapi/openapi_answers.py): each is checked against a real answer of its
operation, found in the served spec by operationId and status."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import pyvips
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from apps.jobs.models import Job
from apps.toolsapi.openapi_answers import ALL_SCHEMAS, ANSWERS
from tests.badfiles import FIXTURES
from tests.factories import PASSWORD
from tests.shipped_models import shipped_models_dir

pytestmark = pytest.mark.django_db
FAST = "realesr-animevideov3"
RESIZE = {"toolId": "resize", "settings": {"width": 8}}


@pytest.fixture(scope="module")
def spec(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """The served spec, read once for the module (it takes a second or two to build)."""
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    yield yaml.safe_load(response.content)


@pytest.fixture
def models(settings: Any) -> None:
    settings.MODELS_DIR = shipped_models_dir()


def operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    found = [
        op
        for ops in spec["paths"].values()
        for op in ops.values()
        if isinstance(op, dict) and op.get("operationId") == operation_id
    ]
    assert len(found) == 1, operation_id
    return found[0]


def documented(spec: dict[str, Any], operation_id: str, response: Any) -> dict[str, Any]:
    """Check a real answer against its operation's documented JSON schema; return it."""
    status = str(response.status_code)
    answers = operation(spec, operation_id)["responses"]
    assert status in answers, (operation_id, status, response.content[:300])
    schema = answers[status]["content"]["application/json"]["schema"]
    body = response.json()
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(body)]
    assert errors == [], (operation_id, errors)
    return body


def photo(name: str = "p.jpg", width: int = 48) -> SimpleUploadedFile:
    image = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg"))
    data = bytes(image.crop(200, 100, width, width * 3 // 4).jpegsave_buffer())
    return SimpleUploadedFile(name, data, "image/jpeg")


def test_every_listed_answer_points_at_its_schema(spec):
    for (operation_id, status), model in ANSWERS.items():
        content = operation(spec, operation_id)["responses"][status]["content"]
        schema = content["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model}"}, (operation_id, status)
    for name, schema in ALL_SCHEMAS.items():
        assert spec["components"]["schemas"][name] == schema
        Draft202012Validator.check_schema(schema)


def test_auth_answers(spec, anon, user, admin_client, client_for):
    login = anon.post("/api/auth/login", {"username": "alice", "password": PASSWORD}, format="json")
    token = documented(spec, "auth_login_create", login)["token"]
    me = client_for(token)
    documented(spec, "auth_session_retrieve", me.get("/api/auth/session"))
    documented(spec, "auth_users_retrieve", admin_client.get("/api/auth/users"))
    made = admin_client.post(
        "/api/auth/register", {"username": "carol", "password": PASSWORD + "x"}, format="json"
    )
    carol = documented(spec, "auth_register_create", made)
    assert carol["team"] is None or isinstance(carol["team"], str)
    admin_client.post("/api/v1/teams", {"name": "Lab"})
    changed = admin_client.put(f"/api/auth/users/{user.pk}", {"team": "Lab"}, format="json")
    assert documented(spec, "auth_users_update", changed)["user"]["team"] == "Lab"
    reset = admin_client.post(
        f"/api/auth/users/{carol['id']}/reset-password", {"newPassword": PASSWORD + "y"}
    )
    documented(spec, "auth_users_reset_password_create", reset)
    documented(spec, "auth_users_destroy", admin_client.delete(f"/api/auth/users/{carol['id']}"))
    login = anon.post("/api/auth/login", {"username": "alice", "password": PASSWORD})
    again = client_for(login.json()["token"])
    body = {"currentPassword": PASSWORD, "newPassword": PASSWORD + "z"}
    documented(spec, "auth_change_password_create", again.post("/api/auth/change-password", body))
    documented(spec, "auth_logout_create", again.post("/api/auth/logout"))


def test_api_key_answers(spec, user_client, admin_client):
    created = documented(spec, "api_keys_create", user_client.post("/api/v1/api-keys", {}))
    assert created["key"].startswith("si_") and created["lastUsedAt"] is None
    documented(spec, "api_keys_retrieve", user_client.get("/api/v1/api-keys"))
    listed = documented(spec, "api_keys_retrieve", admin_client.get("/api/v1/api-keys"))
    assert listed["apiKeys"][0]["owner"]["username"] == "alice"  # the admin's view
    gone = user_client.delete(f"/api/v1/api-keys/{created['id']}")
    documented(spec, "api_keys_destroy", gone)


def test_library_answers(spec, user_client):
    uploaded = user_client.post("/api/v1/upload", {"files": [photo()]}, format="multipart")
    file_id = documented(spec, "files_upload", uploaded)["files"][0]["id"]
    user_client.post(
        "/api/v1/tools/resize",
        {"file": photo(), "settings": f'{{"width": 8, "fileId": "{file_id}"}}'},
    )
    documented(spec, "files_list", user_client.get("/api/v1/files"))
    detail = documented(spec, "files_get", user_client.get(f"/api/v1/files/{file_id}"))
    assert [v["provenance"]["toolId"] for v in detail["versions"]] == [None, "resize"]
    documented(spec, "files_delete", user_client.delete(f"/api/v1/files/{file_id}"))
    staged = user_client.post("/api/v1/uploads", {"file": photo()}, format="multipart")
    documented(spec, "uploads_stage", staged)


def test_tool_and_model_answers(spec, user_client, admin_client, models):
    tools = documented(spec, "tools_list", user_client.get("/api/v1/tools"))
    assert len(tools["tools"]) > 30
    documented(spec, "tools_describe", user_client.get("/api/v1/tools/resize"))
    listed = documented(spec, "models_list", user_client.get("/api/v1/models"))
    assert {m["status"] for m in listed["models"]} >= {"installed", "missing"}
    documented(spec, "models_get", user_client.get(f"/api/v1/models/{FAST}"))
    documented(spec, "models_unload", admin_client.post(f"/api/v1/models/{FAST}/unload"))


def test_pipeline_answers(spec, user_client, admin_client):
    body = {"name": "small", "steps": [RESIZE]}
    saved = documented(
        spec, "pipeline_save", user_client.post("/api/v1/pipeline/save", body, format="json")
    )
    path = f"/api/v1/pipeline/{saved['id']}"
    documented(spec, "pipeline_list", user_client.get("/api/v1/pipeline/list"))
    listed = documented(spec, "pipeline_list", admin_client.get("/api/v1/pipeline/list"))
    assert listed["pipelines"][0]["owner"]["username"] == "alice"
    documented(spec, "pipeline_get", user_client.get(path))
    documented(spec, "pipeline_update", user_client.put(path, body, format="json"))
    checked = user_client.post("/api/v1/pipeline/validate", {"steps": [RESIZE]}, format="json")
    documented(spec, "pipeline_validate", checked)
    documented(spec, "pipeline_tools", user_client.get("/api/v1/pipeline/tools"))
    run = user_client.post(
        f"{path}/execute", {"file": photo()}, format="multipart", HTTP_PREFER="respond-async"
    )
    documented(spec, "pipeline_saved_execute", run)
    documented(spec, "pipeline_delete", user_client.delete(path))


def test_settings_and_team_answers(spec, user_client, admin_client):
    documented(spec, "settings_list", user_client.get("/api/v1/settings"))
    documented(spec, "settings_get", user_client.get("/api/v1/settings/loginAttemptLimit"))
    put = admin_client.put("/api/v1/settings/loginAttemptLimit", {"value": 7}, format="json")
    documented(spec, "settings_set", put)
    got = documented(spec, "settings_get", user_client.get("/api/v1/settings/loginAttemptLimit"))
    assert got["updatedAt"] is not None
    many = admin_client.put("/api/v1/settings", {"disabledTools": ["rotate"]}, format="json")
    documented(spec, "settings_update_many", many)
    team = documented(spec, "teams_create", admin_client.post("/api/v1/teams", {"name": "Lab"}))
    documented(spec, "teams_retrieve", user_client.get("/api/v1/teams"))
    renamed = admin_client.put(f"/api/v1/teams/{team['id']}", {"name": "Lab 2"})
    documented(spec, "teams_update", renamed)
    documented(spec, "teams_destroy", admin_client.delete(f"/api/v1/teams/{team['id']}"))


def test_health_system_and_cancel_answers(spec, anon, user, user_client, admin_client, models):
    documented(spec, "health", anon.get("/api/v1/health"))
    features = documented(spec, "system_features", user_client.get("/api/v1/system/features"))
    assert features["tools"]
    documented(spec, "system_hardware", user_client.get("/api/v1/system/hardware"))
    documented(spec, "system_doctor", admin_client.get("/api/v1/system/doctor"))
    queued = Job.objects.create(owner=user, tool_id="resize")
    running = Job.objects.create(owner=user, tool_id="resize", status=Job.Status.PROCESSING)
    for job in (queued, running):  # 200 cancelled, 202 cancelling
        documented(spec, "jobs_cancel", user_client.post(f"/api/v1/jobs/{job.pk}/cancel"))
    logo = admin_client.post("/api/v1/branding/logo", {"file": photo("logo.jpg", 64)})
    documented(spec, "branding_logo_create", logo)
    documented(spec, "branding_logo_destroy", admin_client.delete("/api/v1/branding/logo"))


def test_upscale_service_answers(spec, user, user_client, models):
    form = {"image": photo("f.jpg", 32), "scale": "2", "model_name": FAST}
    made = user_client.post("/api/v1/upscale", form, format="multipart")
    job_id = documented(spec, "upscale_service_submit", made)["job_id"]
    done = documented(spec, "upscale_service_status", user_client.get(f"/api/v1/status/{job_id}"))
    assert done["status"] == "completed" and done["output_size"] == {"width": 64, "height": 48}
    queued = Job.objects.create(owner=user, tool_id="upscale")
    waiting = user_client.get(f"/api/v1/status/{queued.pk}")
    documented(spec, "upscale_service_status", waiting)
    documented(spec, "upscale_service_cancel", user_client.post(f"/api/v1/cancel/{queued.pk}"))
    failed = user_client.get(f"/api/v1/status/{queued.pk}")
    assert documented(spec, "upscale_service_status", failed)["cancelled"] is True


def test_seedvr2_answers(spec, anon, user, user_client, admin_client, models):
    form = {"file": photo("s.jpg", 32), "resolution": "40", "dit_model": FAST}
    made = user_client.post("/api/process", form, format="multipart")
    task = documented(spec, "seedvr2_process", made)["task_id"]
    status = documented(spec, "seedvr2_status", user_client.get(f"/api/status/{task}"))
    assert status["status"] == "completed" and status["output_path"]
    queued = Job.objects.create(owner=user, tool_id="upscale")
    documented(spec, "seedvr2_status", user_client.get(f"/api/status/{queued.pk}"))
    documented(spec, "seedvr2_queue_status", user_client.get("/api/queue/status"))
    documented(spec, "seedvr2_queue_position", user_client.get(f"/api/queue/position/{task}"))
    history = documented(spec, "seedvr2_queue_history", user_client.get("/api/queue/history"))
    assert history["history"]
    documented(spec, "seedvr2_models", user_client.get("/api/models"))
    documented(spec, "seedvr2_gpu_status", user_client.get("/api/gpu/status"))
    documented(spec, "seedvr2_gpu_offload", admin_client.post("/api/gpu/offload"))
    documented(spec, "seedvr2_health", anon.get("/health"))
    switch = admin_client.post("/api/models/switch", {"model": FAST}, format="json")
    documented(spec, "seedvr2_models_switch", switch)


def test_jellyfin_answers(spec, user, api_key_for, models):
    client = APIClient()
    client.credentials(HTTP_X_API_TOKEN=api_key_for(user))
    image = base64.b64encode(photo("j.jpg", 32).read()).decode()
    frame = client.post(
        "/api/v1/ai/upscale-frame", {"image": image, "model": FAST, "scale": 2}, format="json"
    )
    assert documented(spec, "jellyfin_upscale_frame", frame)["width"] == 64
    faces = client.post("/api/v1/ai/face-restore/detect", {"image": image}, format="json")
    documented(spec, "jellyfin_face_detect", faces)
