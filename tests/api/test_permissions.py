"""The contract's permission table, checked for every API route the URL map serves
(/api/, the A1111 routes under /sdapi/, SeedVR2's /health).

Each row is (method, path, body) and the status each kind of caller gets: anonymous,
a user's session, an admin's session, a user's API key, an admin's API key. The rows of
the compatibility APIs and webhooks live in permission_rows_*.py beside this file.
"""

from typing import Any

import pytest
from django.conf import settings
from django.urls import URLResolver, get_resolver

from apps.accounts.models import User
from apps.apikeys.models import ApiKey
from apps.branding.views import logo_path
from apps.core.tokens import sha256_hex
from apps.jobs.models import Job
from apps.library.services import store_upload
from apps.pipelines.models import Pipeline
from apps.teams.models import Team
from tests.api import (
    permission_rows_a1111,
    permission_rows_services,
    permission_rows_webhooks,
)
from tests.api.permission_kit import (
    ACTORS,
    ADMIN,
    AUTH,
    FIXTURES,
    OPEN,
    STEPS,
    STRONG,
    Row,
    World,
    assert_error_shape,
    logo_upload,
    photos,
)
from tests.factories import PASSWORD, TeamFactory

ROW_MODULES = (permission_rows_services, permission_rows_a1111, permission_rows_webhooks)

pytestmark = pytest.mark.django_db

ROWS = {
    # auth
    "login": Row(
        "POST", "/api/auth/login", OPEN, lambda: {"username": "bob", "password": PASSWORD}
    ),
    "logout": Row("POST", "/api/auth/logout", (401, 200, 200, 400, 400)),
    "session": Row("GET", "/api/auth/session", AUTH),
    "change-password": Row(
        "POST",
        "/api/auth/change-password",
        AUTH,
        lambda: {"currentPassword": PASSWORD, "newPassword": STRONG},
    ),
    "users-list": Row("GET", "/api/auth/users", ADMIN),
    "register": Row(
        "POST",
        "/api/auth/register",
        (401, 403, 201, 403, 201),
        lambda: {"username": "carol", "password": STRONG, "role": "user", "team": "Spare"},
    ),
    "user-update": Row("PUT", "/api/auth/users/{bob}", ADMIN, lambda: {"role": "admin"}),
    "user-reset-password": Row(
        "POST", "/api/auth/users/{bob}/reset-password", ADMIN, lambda: {"newPassword": STRONG}
    ),
    "user-delete": Row("DELETE", "/api/auth/users/{bob}", ADMIN),
    # api keys: anyone signed in manages their own; another's key is 404 unless admin
    "api-keys-list": Row("GET", "/api/v1/api-keys", AUTH),
    "api-keys-create": Row("POST", "/api/v1/api-keys", (401, 201, 201, 201, 201), dict),
    "api-key-delete-others": Row("DELETE", "/api/v1/api-keys/{bob_key}", (401, 404, 200, 404, 200)),
    # teams
    "teams-list": Row("GET", "/api/v1/teams", AUTH),
    "teams-create": Row(
        "POST", "/api/v1/teams", (401, 403, 201, 403, 201), lambda: {"name": "New"}
    ),
    "team-rename": Row("PUT", "/api/v1/teams/{spare}", ADMIN, lambda: {"name": "Renamed"}),
    "team-delete": Row("DELETE", "/api/v1/teams/{spare}", ADMIN),
    # settings
    "settings-read": Row("GET", "/api/v1/settings", AUTH),
    "setting-read": Row("GET", "/api/v1/settings/loginAttemptLimit", AUTH),
    "settings-write-many": Row("PUT", "/api/v1/settings", ADMIN, lambda: {"loginAttemptLimit": 5}),
    "setting-write": Row("PUT", "/api/v1/settings/loginAttemptLimit", ADMIN, lambda: {"value": 5}),
    # branding: public logo, admin writes
    "logo-get": Row("GET", "/api/v1/branding/logo", OPEN),
    "logo-upload": Row(
        "POST", "/api/v1/branding/logo", ADMIN, lambda: {"file": logo_upload()}, multipart=True
    ),
    "logo-delete": Row("DELETE", "/api/v1/branding/logo", ADMIN),
    # jobs and the queue: another user's job is 404 unless admin
    "jobs-list": Row("GET", "/api/v1/jobs", AUTH),
    "job-detail-others": Row("GET", "/api/v1/jobs/{bob_job}", (401, 404, 200, 404, 200)),
    "job-download-others": Row("GET", "/api/v1/jobs/{bob_job}/download", (401, 404, 200, 404, 200)),
    "job-progress-others": Row("GET", "/api/v1/jobs/{bob_job}/progress", (401, 404, 200, 404, 200)),
    "job-cancel-others": Row("POST", "/api/v1/jobs/{bob_queued}/cancel", (401, 404, 200, 404, 200)),
    "queue-status": Row("GET", "/api/v1/queue/status", AUTH),
    "uploads-stage": Row(
        "POST", "/api/v1/uploads", (401, 201, 201, 201, 201), lambda: photos("file", 1), True
    ),
    "queue-history": Row("GET", "/api/v1/queue/history", AUTH),
    # batches and pipelines: anyone signed in; another user's saved pipeline is 404 unless admin
    "tool-batch": Row(
        "POST", "/api/v1/tools/resize/batch", AUTH, lambda: photos("files", 2), multipart=True
    ),
    "pipeline-execute": Row(
        "POST", "/api/v1/pipeline/execute", AUTH, lambda: photos("file", 1), multipart=True
    ),
    "pipeline-batch": Row(
        "POST", "/api/v1/pipeline/batch", AUTH, lambda: photos("files", 2), multipart=True
    ),
    "pipeline-save": Row(
        "POST",
        "/api/v1/pipeline/save",
        (401, 201, 201, 201, 201),
        lambda: {"name": "p", "steps": STEPS},
    ),
    "pipeline-validate": Row("POST", "/api/v1/pipeline/validate", AUTH, lambda: {"steps": STEPS}),
    "pipeline-update-others": Row(
        "PUT",
        "/api/v1/pipeline/{bob_pipeline}",
        (401, 404, 200, 404, 200),
        lambda: {"name": "renamed", "steps": STEPS},
    ),
    "pipeline-list": Row("GET", "/api/v1/pipeline/list", AUTH),
    "pipeline-tools": Row("GET", "/api/v1/pipeline/tools", AUTH),
    "pipeline-detail-others": Row(
        "GET", "/api/v1/pipeline/{bob_pipeline}", (401, 404, 200, 404, 200)
    ),
    "pipeline-run-others": Row(
        "POST",
        "/api/v1/pipeline/{bob_pipeline}/execute",
        (401, 404, 200, 404, 200),
        lambda: photos("file", 1),
        multipart=True,
    ),
    "pipeline-batch-others": Row(
        "POST",
        "/api/v1/pipeline/{bob_pipeline}/batch",
        (401, 404, 200, 404, 200),
        lambda: photos("files", 2),
        multipart=True,
    ),
    "pipeline-delete-others": Row(
        "DELETE", "/api/v1/pipeline/{bob_pipeline}", (401, 404, 200, 404, 200)
    ),
    # file library: anyone signed in; another user's file is 404 unless admin
    "files-download-many-others": Row(
        "POST",
        "/api/v1/files/download",
        (401, 404, 200, 404, 200),
        lambda: {"fileIds": ["{bob_file}"]},
    ),
    "files-upload": Row(
        "POST", "/api/v1/upload", (401, 201, 201, 201, 201), lambda: photos("files", 2), True
    ),
    "files-list": Row("GET", "/api/v1/files", AUTH),
    "file-detail-others": Row("GET", "/api/v1/files/{bob_file}", (401, 404, 200, 404, 200)),
    "file-download-others": Row(
        "GET", "/api/v1/files/{bob_file}/download", (401, 404, 200, 404, 200)
    ),
    "file-thumbnail-others": Row(
        "GET", "/api/v1/files/{bob_file}/thumbnail", (401, 404, 200, 404, 200)
    ),
    "file-delete-others": Row("DELETE", "/api/v1/files/{bob_file}", (401, 404, 200, 404, 200)),
    # AI models: anyone signed in reads the catalog; admins install (a logo is no model: 422)
    "models-list": Row("GET", "/api/v1/models", AUTH),
    "model-detail": Row("GET", "/api/v1/models/u2netp", AUTH),
    "model-import": Row(
        "POST",
        "/api/v1/models/u2netp/import",
        (401, 403, 422, 403, 422),
        lambda: {"file": logo_upload()},
        True,
    ),
    # admins manage models: a shipped one is neither downloaded nor deleted (409); load,
    # unload and the benchmark are jobs or requests (202)
    # A system package's model (Tesseract) is installed with apt, never by the server: 409.
    "model-download": Row(
        "POST", "/api/v1/models/tesseract-eng/download", (401, 403, 409, 403, 409)
    ),
    "model-delete": Row("DELETE", "/api/v1/models/u2netp", (401, 403, 409, 403, 409)),
    "model-load": Row("POST", "/api/v1/models/u2netp/load", (401, 403, 202, 403, 202)),
    "model-unload": Row("POST", "/api/v1/models/u2netp/unload", (401, 403, 202, 403, 202)),
    "system-benchmark": Row(
        "POST", "/api/v1/system/benchmark", (401, 403, 202, 403, 202), lambda: {"runs": 1}
    ),
    # system: what this server can do (anyone signed in), its doctor (admins); /metrics is
    # not under /api/: its protection is tested in tests/api/test_system_metrics.py
    "system-hardware": Row("GET", "/api/v1/system/hardware", AUTH),
    "system-features": Row("GET", "/api/v1/system/features", AUTH),
    "system-doctor": Row("GET", "/api/v1/system/doctor", ADMIN),
    # tools and health
    "tools-list": Row("GET", "/api/v1/tools", AUTH),
    "tool-describe": Row("GET", "/api/v1/tools/resize", AUTH),
    "health": Row("GET", "/api/v1/health", OPEN),
}
for _module in ROW_MODULES:
    assert not set(_module.ROWS) & set(ROWS), _module.__name__  # one name, one row
    ROWS.update(_module.ROWS)


@pytest.fixture
def world(admin_user, user, other_user, session_token, api_key_for, client_for) -> World:
    logo = logo_path()
    logo.parent.mkdir(parents=True, exist_ok=True)
    logo.write_bytes((FIXTURES / "transparent.png").read_bytes())
    bob_raw = api_key_for(other_user)
    world = World(
        bob=other_user,
        spare=TeamFactory(name="Spare"),
        bob_key=ApiKey.objects.get(key_hash=sha256_hex(bob_raw)),
        bob_job=finished_job_of(other_user),
        bob_queued=Job.objects.create(owner=other_user, tool_id="resize"),
        bob_pipeline=Pipeline.objects.create(owner=other_user, name="bob's", steps=STEPS),
        bob_file=store_upload(other_user, logo_upload()),
        clients={
            "anonymous": client_for(None),
            "user_session": client_for(session_token(user)),
            "admin_session": client_for(session_token(admin_user)),
            "user_key": client_for(api_key_for(user)),
            "admin_key": client_for(api_key_for(admin_user)),
        },
    )
    for module in ROW_MODULES:
        if hasattr(module, "prepare"):
            world.extra.update(module.prepare(world))
    return world


def finished_job_of(owner: User) -> Job:
    job = Job.objects.create(owner=owner, tool_id="resize", status=Job.Status.COMPLETED)
    result = settings.DATA_DIR / "jobs" / str(job.id) / "out" / "result.jpg"
    result.parent.mkdir(parents=True)
    result.write_bytes((FIXTURES / "photo.jpg").read_bytes())
    job.result_file = str(result.relative_to(settings.DATA_DIR))
    job.result_name, job.result_media_type = "photo_resize.jpg", "image/jpeg"
    job.finished_at = job.created_at
    job.save()
    return job


CASES = [
    pytest.param(row, actor, row.expected[i], id=f"{name}-{actor}")
    for name, row in ROWS.items()
    for i, actor in enumerate(ACTORS)
]


@pytest.mark.parametrize(("row", "actor", "status"), CASES)
def test_the_permission_table(world, row, actor, status):
    response = row.send(world.clients[actor], world)

    assert response.status_code == status, response.content[:300]
    if status >= 400:
        assert_error_shape(response)


API_PREFIXES = ("/api/", "/sdapi/", "/health")


def api_routes(patterns: list[Any], prefix: str = "/") -> set[str]:
    """Every API route of the URL map (includes followed), as written in urls.py."""
    found: set[str] = set()
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found |= api_routes(entry.url_patterns, route)
        elif route.startswith(API_PREFIXES):
            found.add(route)
    return found


def test_every_route_of_the_api_is_in_the_table():
    documentation = {"/api/v1/openapi.yaml", "/api/docs"}  # public: tests/api/test_docs.py
    routes = api_routes(get_resolver().url_patterns) - documentation
    assert "/api/v1/tools/<slug:tool_id>" in routes and "/api/auth/login" in routes
    covered = {
        row.route
        or row.path.replace("{bob}", "<uuid:user_id>")
        .replace("{spare}", "<uuid:team_id>")
        .replace("{bob_key}", "<uuid:key_id>")
        .replace("{bob_job}", "<uuid:job_id>")
        .replace("{bob_queued}", "<uuid:job_id>")
        .replace("{bob_pipeline}", "<uuid:pipeline_id>")
        .replace("{bob_file}", "<uuid:file_id>")
        .replace("/resize", "/<slug:tool_id>")
        .replace("/loginAttemptLimit", "/<str:key>")
        .replace("/u2netp", "/<str:model_id>")
        .replace("/tesseract-eng", "/<str:model_id>")
        for row in ROWS.values()
    }
    assert routes <= covered, sorted(routes - covered)


@pytest.mark.parametrize("name", [n for n, row in ROWS.items() if row.expected[0] == 401], ids=str)
def test_an_invalid_bearer_token_is_401_wherever_sign_in_is_needed(world, client_for, name):
    row = ROWS[name]
    for token in ("not-a-session", "si_" + "f" * 96):
        response = row.send(client_for(token), world)
        assert response.status_code == 401, (token, response.content[:300])
        assert_error_shape(response)
        assert response.json()["code"] == "AUTH_INVALID"


def test_the_public_logo_ignores_a_stale_token(world, client_for):
    response = ROWS["logo-get"].send(client_for("expired-session-token"), world)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


def test_without_a_logo_the_public_logo_is_a_json_404(anon):
    response = anon.get("/api/v1/branding/logo")

    assert response.status_code == 404
    assert_error_shape(response)
    assert response.json()["code"] == "NOT_FOUND"


def test_an_unknown_route_is_a_json_404(admin_client):
    response = admin_client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert_error_shape(response)
    assert response.json()["code"] == "NOT_FOUND"


# --- AUTH_ENABLED=false: anonymous may use tools, never manage ------------------------


@pytest.fixture
def auth_disabled(settings) -> None:
    settings.AUTH_ENABLED = False


def test_without_auth_anonymous_lists_tools(auth_disabled, anon):
    response = anon.get("/api/v1/tools")

    assert response.status_code == 200
    assert any(tool["id"] == "resize" for tool in response.json()["tools"])


def test_without_auth_anonymous_describes_a_tool(auth_disabled, anon):
    assert anon.get("/api/v1/tools/resize").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/auth/users", None),
        ("post", "/api/auth/register", {"username": "carol", "password": STRONG}),
        ("put", "/api/v1/settings/loginAttemptLimit", {"value": 0}),
        ("put", "/api/v1/settings", {"loginAttemptLimit": 0}),
        ("post", "/api/v1/teams", {"name": "Intruders"}),
        ("delete", "/api/v1/branding/logo", None),
        ("post", "/api/v1/api-keys", {"name": "sneaky"}),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("/") else None,
)
def test_without_auth_anonymous_never_becomes_admin(
    auth_disabled, anon, admin_user, method, path, body
):
    response = getattr(anon, method)(path, body, format="json")

    assert response.status_code == 401, response.content
    assert_error_shape(response)
    assert response.json()["code"] == "AUTH_REQUIRED"
    assert not Team.objects.filter(name="Intruders").exists()
    assert not User.objects.filter(username="carol").exists()
    assert not ApiKey.objects.exists()


def test_without_auth_a_user_session_is_still_a_user(auth_disabled, user_client):
    response = user_client.get("/api/auth/users")

    assert response.status_code == 403
    assert_error_shape(response)
