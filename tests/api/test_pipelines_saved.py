"""Saved pipelines (save, list, get, delete, run by id) and GET /api/v1/pipeline/tools."""

import io
import json
import zipfile
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs.models import Job
from apps.pipelines.models import Pipeline
from apps.siteconfig.registry import set_setting
from tests.api.support import error_message
from tests.badfiles import FIXTURES

STEPS = [
    {"toolId": "resize", "settings": {"width": 300}},
    {"toolId": "rotate", "settings": {"angle": 90}},
]


def photo(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")


def save(client: Any, name: str = "Thumbs", steps: Any = None, **fields: Any) -> Any:
    body = {"name": name, "steps": STEPS if steps is None else steps, **fields}
    return client.post("/api/v1/pipeline/save", body, format="json")


def saved_by(client: Any, name: str = "Thumbs") -> str:
    response = save(client, name)
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def run_saved(client: Any, pipeline_id: str) -> Any:
    url = f"/api/v1/pipeline/{pipeline_id}/execute"
    return client.post(url, {"file": photo()}, format="multipart")


@pytest.fixture
def other_client(other_user, client_for, session_token) -> Any:
    return client_for(session_token(other_user))


# --- save ------------------------------------------------------------------------------


def test_saving_answers_201_with_the_pipeline(user_client, user):
    response = save(user_client, "Web thumbs", description="300 px, portrait")

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"id", "name", "description", "steps", "createdAt"}
    assert (body["name"], body["description"], body["steps"]) == (
        "Web thumbs",
        "300 px, portrait",
        STEPS,
    )
    assert Pipeline.objects.get(pk=body["id"]).owner == user


def test_steps_may_also_come_as_a_json_string_in_a_form(user_client):
    data = {"name": "Form", "steps": json.dumps(STEPS)}
    response = user_client.post("/api/v1/pipeline/save", data, format="multipart")
    assert response.status_code == 201
    assert response.json()["steps"] == STEPS


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": ""}, "VALIDATION_ERROR"),
        ({"name": "x" * 101}, "VALIDATION_ERROR"),
        ({"description": "x" * 1001}, "VALIDATION_ERROR"),
        ({"steps": []}, "PIPELINE_INVALID"),
        ({"steps": [{"toolId": "compress", "settings": {"quality": 0}}]}, "INVALID_SETTINGS"),
        ({"steps": [{"toolId": "info"}, *STEPS]}, "PIPELINE_INVALID"),
    ],
)
def test_saving_validates_like_running(user_client, fields, code):
    error_message(save(user_client, **{"name": "ok", **fields}), 400, code)
    assert not Pipeline.objects.exists()


def test_saving_a_disabled_tool_is_403(user_client):
    set_setting("disabledTools", ["rotate"])
    assert "Step 2 (rotate)" in error_message(save(user_client), 403, "TOOL_DISABLED")


# --- list, get, delete: the ownership matrix ---------------------------------------------


def test_users_list_their_own_and_admins_everyones(user_client, other_client, admin_client):
    mine, theirs = saved_by(user_client, "mine"), saved_by(other_client, "theirs")

    listed = user_client.get("/api/v1/pipeline/list").json()["pipelines"]
    assert [p["id"] for p in listed] == [mine]
    assert "owner" not in listed[0]
    everyone = admin_client.get("/api/v1/pipeline/list").json()["pipelines"]
    owners = {p["id"]: p["owner"]["username"] for p in everyone}
    assert owners == {mine: "alice", theirs: "bob"}


def test_another_users_pipeline_is_404_to_get_delete_and_run(user_client, other_client):
    theirs = saved_by(other_client)

    error_message(user_client.get(f"/api/v1/pipeline/{theirs}"), 404, "NOT_FOUND")
    error_message(user_client.delete(f"/api/v1/pipeline/{theirs}"), 404, "NOT_FOUND")
    error_message(run_saved(user_client, theirs), 404, "NOT_FOUND")
    assert Pipeline.objects.filter(pk=theirs).exists()
    assert not Job.objects.exists()


def test_owners_delete_their_pipeline(user_client):
    mine = saved_by(user_client)
    assert user_client.delete(f"/api/v1/pipeline/{mine}").json() == {"ok": True}
    error_message(user_client.delete(f"/api/v1/pipeline/{mine}"), 404, "NOT_FOUND")


def test_admins_get_and_delete_anyones(user_client, admin_client):
    theirs = saved_by(user_client)
    assert admin_client.get(f"/api/v1/pipeline/{theirs}").json()["steps"] == STEPS
    assert admin_client.delete(f"/api/v1/pipeline/{theirs}").status_code == 200
    assert not Pipeline.objects.exists()


def test_anonymous_callers_need_a_token(anon, db):
    error_message(anon.get("/api/v1/pipeline/list"), 401, "AUTH_REQUIRED")
    error_message(save(anon), 401, "AUTH_REQUIRED")


def test_with_auth_disabled_anonymous_callers_share_unowned_pipelines(anon, user_client, settings):
    settings.AUTH_ENABLED = False
    saved_by(user_client, "alices")
    pipeline_id = saved_by(anon, "nobodys")

    assert [p["id"] for p in anon.get("/api/v1/pipeline/list").json()["pipelines"]] == [pipeline_id]
    assert Pipeline.objects.get(pk=pipeline_id).owner is None
    assert run_saved(anon, pipeline_id).status_code == 200


# --- running by id ---------------------------------------------------------------------


def test_a_saved_pipeline_runs_by_id(user_client, user):
    pipeline_id = saved_by(user_client)
    response = run_saved(user_client, pipeline_id)

    assert response.status_code == 200
    image = pyvips.Image.new_from_buffer(b"".join(response.streaming_content), "")
    assert (image.width, image.height) == (200, 300)
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert (job.kind, job.owner, str(job.pipeline_id)) == ("pipeline", user, pipeline_id)


def test_admins_may_run_anyones_pipeline(user_client, admin_client, admin_user):
    response = run_saved(admin_client, saved_by(user_client))
    assert response.status_code == 200
    assert Job.objects.get().owner == admin_user


def test_a_tool_disabled_since_saving_is_403_on_run(user_client):
    pipeline_id = saved_by(user_client)
    set_setting("disabledTools", ["rotate"])

    message = error_message(run_saved(user_client, pipeline_id), 403, "TOOL_DISABLED")
    assert message.startswith("Step 2 (rotate)")
    assert not Job.objects.exists()


def test_a_saved_pipeline_runs_as_a_batch(user_client):
    url = f"/api/v1/pipeline/{saved_by(user_client)}/batch"
    files = [photo("one.jpg"), photo("two.jpg")]
    response = user_client.post(url, {"files": files}, format="multipart")

    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert {"one_pipeline.jpg", "two_pipeline.jpg", "manifest.json"} <= set(names)
    assert Job.objects.get().kind == "pipeline-batch"


# --- which tools can be steps ----------------------------------------------------------


def test_pipeline_tools_lists_one_image_tools_and_flags_last_only(user_client):
    set_setting("disabledTools", ["convert"])
    body = user_client.get("/api/v1/pipeline/tools").json()

    assert {"resize", "crop", "rotate", "compress", "info"} <= set(body["tools"])
    assert "convert" not in body["tools"]
    assert {"info", "favicon"} <= set(body["lastOnly"])


def test_validate_checks_steps_without_running_anything(user_client):
    from apps.jobs.models import Job

    ok = user_client.post(
        "/api/v1/pipeline/validate",
        {"steps": [{"toolId": "resize", "settings": {"width": 10}}, {"toolId": "rotate"}]},
        format="json",
    )
    bad = user_client.post(
        "/api/v1/pipeline/validate",
        {
            "steps": [
                {"toolId": "resize", "settings": {"width": 10}},
                {"toolId": "rotate", "settings": {"angle": "x"}},
            ]
        },
        format="json",
    )

    assert ok.status_code == 200
    assert [s["toolId"] for s in ok.json()["steps"]] == ["resize", "rotate"]
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("Step 2 (rotate):")
    assert not Job.objects.exists()


def test_a_saved_pipeline_is_updated_in_place(user_client):
    saved = user_client.post(
        "/api/v1/pipeline/save",
        {"name": "a", "steps": [{"toolId": "resize", "settings": {"width": 10}}]},
        format="json",
    ).json()

    updated = user_client.put(
        f"/api/v1/pipeline/{saved['id']}",
        {
            "name": "b",
            "description": "d",
            "steps": [{"toolId": "rotate", "settings": {"angle": 90}}],
        },
        format="json",
    )
    refused = user_client.put(
        f"/api/v1/pipeline/{saved['id']}",
        {"name": "c", "steps": [{"toolId": "nope"}]},
        format="json",
    )

    assert updated.status_code == 200
    assert updated.json()["id"] == saved["id"]
    assert updated.json()["name"] == "b"
    assert [s["toolId"] for s in updated.json()["steps"]] == ["rotate"]
    assert refused.status_code == 400
    assert user_client.get(f"/api/v1/pipeline/{saved['id']}").json()["name"] == "b"
