"""One JSON error shape everywhere: {"error": "human message", "code": "MACHINE_CODE"}."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.support import assert_error
from tests.badfiles import FIXTURES


@pytest.mark.parametrize("path", ["/api/v1/does-not-exist", "/nope", "/api/v1/teams/"])
def test_an_unknown_route_is_a_json_404(anon, user_client, path):
    body = assert_error(anon.get(path), 404, "NOT_FOUND")
    assert set(body) == {"error", "code"}
    assert path in body["error"]
    assert_error(user_client.post(path, {"a": 1}, format="json"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("patch", "/api/v1/teams", "POST"),
        ("delete", "/api/v1/settings", "PUT"),
        ("post", "/api/v1/settings/loginAttemptLimit", "PUT"),
        ("put", "/api/v1/tools", "GET"),
    ],
)
def test_a_wrong_method_is_a_json_405(admin_client, method, path, allowed):
    response = getattr(admin_client, method)(path, {}, format="json")
    body = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert method.upper() in body["error"]
    assert allowed in response["Allow"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/teams"),
        ("put", "/api/v1/settings"),
        ("put", "/api/v1/settings/loginAttemptLimit"),
    ],
)
def test_a_malformed_json_body_is_a_json_400(admin_client, method, path):
    response = getattr(admin_client, method)(
        path, data='{"name": "x", ', content_type="application/json"
    )
    body = assert_error(response, 400, "INVALID_REQUEST_BODY")
    assert "JSON" in body["error"]


def test_an_unsupported_content_type_is_a_json_415(admin_client):
    response = admin_client.post(
        "/api/v1/teams", data="<team>x</team>", content_type="application/xml"
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_no_credentials_is_a_json_401_with_a_bearer_challenge(anon, db):
    body = assert_error(anon.get("/api/v1/teams"), 401, "AUTH_REQUIRED")
    assert set(body) == {"error", "code"}
    assert anon.get("/api/v1/teams")["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("token", ["not-a-session", "si_" + "0" * 96])
def test_a_bad_token_is_a_json_401(client_for, db, token):
    assert_error(client_for(token).get("/api/v1/teams"), 401, "AUTH_INVALID")


def test_insufficient_role_is_a_json_403(user_client):
    body = assert_error(
        user_client.post("/api/v1/teams", {"name": "x"}, format="json"), 403, "FORBIDDEN"
    )
    assert "Admin" in body["error"]


def test_a_validation_error_names_the_field(admin_client):
    body = assert_error(
        admin_client.post("/api/v1/teams", {}, format="json"), 400, "VALIDATION_ERROR"
    )
    assert body["error"].startswith("name:")


def test_an_unhandled_error_in_an_api_view_is_a_json_500_without_details(user_client, monkeypatch):
    def explode() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr("apps.siteconfig.views.all_settings", explode)
    body = assert_error(user_client.get("/api/v1/settings"), 500, "INTERNAL_ERROR")
    assert "secret" not in body["error"]


def test_an_unhandled_error_in_a_plain_view_is_a_json_500(client, monkeypatch, db):
    def explode() -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("apps.toolsapi.llms.registry.all_tools", explode)
    client.raise_request_exception = False
    body = assert_error(client.get("/llms.txt"), 500, "INTERNAL_ERROR")
    assert "secret" not in body["error"]


def test_djangos_own_http404_and_permission_denied_become_the_json_shape():
    """Raised by Django helpers (get_object_or_404, PermissionDenied) inside a DRF view."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from apps.core.errors import exception_handler

    not_found = exception_handler(Http404("nope"), {"view": None})
    forbidden = exception_handler(PermissionDenied(), {"view": None})
    assert (not_found.status_code, not_found.data["code"]) == (404, "NOT_FOUND")
    assert (forbidden.status_code, forbidden.data["code"]) == (403, "FORBIDDEN")
    assert set(not_found.data) == set(forbidden.data) == {"error", "code"}


DEEP = "[" * 5000 + "]" * 5000  # Python's JSON decoder gives up with a RecursionError


def test_json_nested_thousands_of_levels_is_a_400_even_for_anonymous_login(anon, db):
    response = anon.post("/api/auth/login", DEEP, content_type="application/json")

    assert_error(response, 400, "INVALID_REQUEST_BODY")


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("p.jpg", (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")


def test_settings_and_pipelines_nested_too_deeply_are_400(user_client):
    settings = user_client.post(
        "/api/v1/tools/resize", {"file": photo(), "settings": DEEP}, format="multipart"
    )
    pipeline = user_client.post(
        "/api/v1/pipeline/execute", {"file": photo(), "pipeline": DEEP}, format="multipart"
    )

    assert "nested too deeply" in assert_error(settings, 400, "INVALID_SETTINGS_JSON")["error"]
    assert "nested too deeply" in assert_error(pipeline, 400, "PIPELINE_INVALID")["error"]


def test_more_form_fields_than_allowed_is_a_400(anon, db):
    fields = {f"f{i}": "x" for i in range(1200)}

    response = anon.post("/api/auth/login", fields)

    assert_error(response, 400, "TOO_MANY_FIELDS")


def test_more_query_parameters_than_allowed_is_a_400(anon, db):
    query = "&".join(f"q{i}=1" for i in range(1200))

    assert_error(anon.get(f"/api/v1/health?{query}"), 400, "TOO_MANY_FIELDS")
