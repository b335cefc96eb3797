"""/api/v1/settings: runtime key/value settings, read by any user, written by admins."""

import json
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.siteconfig.models import SiteSetting
from tests.api.support import assert_error
from tests.conftest import FIXTURES
from tests.factories import PASSWORD

DEFAULTS_KEYS = {"disabledTools", "enableExperimentalTools", "loginAttemptLimit", "customLogo"}


def current(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/settings")
    assert response.status_code == 200
    return response.json()["settings"]


def put_one(client: Any, key: str, value: Any) -> Any:
    return client.put(f"/api/v1/settings/{key}", {"value": value}, format="json")


def run_resize(client: Any) -> Any:
    photo = SimpleUploadedFile(
        "photo.jpg", (FIXTURES / "photo.jpg").read_bytes(), content_type="image/jpeg"
    )
    data = {"file": photo, "settings": json.dumps({"width": 100})}
    return client.post("/api/v1/tools/resize", data, format="multipart")


# --- reading -----------------------------------------------------------------------------


def test_a_user_reads_the_defaults(user_client, settings):
    assert current(user_client) == {
        "disabledTools": [],
        "enableExperimentalTools": False,
        "loginAttemptLimit": settings.LOGIN_ATTEMPT_LIMIT,
        "customLogo": False,
    }


def test_the_login_attempt_default_follows_the_environment_setting(user_client, settings):
    settings.LOGIN_ATTEMPT_LIMIT = 7
    assert current(user_client)["loginAttemptLimit"] == 7


def test_reading_settings_requires_authentication(anon, db):
    assert_error(anon.get("/api/v1/settings"), 401, "AUTH_REQUIRED")
    assert_error(anon.get("/api/v1/settings/disabledTools"), 401, "AUTH_REQUIRED")


def test_a_single_setting_reads_its_default_then_its_stored_value(admin_client, user_client):
    before = user_client.get("/api/v1/settings/enableExperimentalTools")
    assert before.status_code == 200
    assert before.json() == {"key": "enableExperimentalTools", "value": False, "updatedAt": None}
    assert put_one(admin_client, "enableExperimentalTools", True).status_code == 200
    after = user_client.get("/api/v1/settings/enableExperimentalTools").json()
    assert after["value"] is True
    assert after["updatedAt"] is not None


def test_reading_an_unknown_setting_is_not_found(user_client):
    assert_error(user_client.get("/api/v1/settings/nope"), 404, "NOT_FOUND")


# --- writing one key ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("enableExperimentalTools", True, True),
        ("enableExperimentalTools", "true", True),
        ("enableExperimentalTools", "false", False),
        ("loginAttemptLimit", 5, 5),
        ("loginAttemptLimit", "5", 5),
        ("loginAttemptLimit", 0, 0),
        ("disabledTools", [], []),
        ("disabledTools", "[]", []),
    ],
)
def test_admin_sets_a_key_from_a_typed_value_or_its_string_form(
    admin_client, user_client, key, value, stored
):
    response = put_one(admin_client, key, value)
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "key": key, "value": stored}
    assert current(user_client)[key] == stored
    assert SiteSetting.objects.get(key=key).value == stored


@pytest.mark.parametrize("value", [["resize"], '["resize"]', ["resize", "resize"]])
def test_admin_disables_tools_by_list_or_json_string(admin_client, value):
    response = put_one(admin_client, "disabledTools", value)
    assert response.status_code == 200, response.content
    assert response.json()["value"] == ["resize"]
    assert SiteSetting.objects.get(key="disabledTools").value == ["resize"]


def test_setting_an_unknown_key_is_rejected(admin_client):
    body = assert_error(
        put_one(admin_client, "maxThings", 3), 400, "UNKNOWN_SETTING", extra={"known"}
    )
    assert "maxThings" in body["error"]
    assert not SiteSetting.objects.filter(key="maxThings").exists()


def test_custom_logo_is_read_only_through_settings(admin_client, user_client):
    assert_error(put_one(admin_client, "customLogo", True), 400, "READONLY_SETTING")
    assert current(user_client)["customLogo"] is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("disabledTools", "resize"),
        ("disabledTools", {"resize": True}),
        ("disabledTools", [1, 2]),
        ("disabledTools", 5),
        ("loginAttemptLimit", -1),
        ("loginAttemptLimit", "abc"),
        ("loginAttemptLimit", 2.5),
        ("loginAttemptLimit", True),
        ("loginAttemptLimit", 1001),
        ("enableExperimentalTools", "maybe"),
        ("enableExperimentalTools", 1),
        ("enableExperimentalTools", None),
    ],
)
def test_it_rejects_a_value_of_the_wrong_type(admin_client, key, value):
    body = assert_error(put_one(admin_client, key, value), 400, "VALIDATION_ERROR")
    assert key in body["error"]
    assert not SiteSetting.objects.filter(key=key).exists()


def test_it_rejects_an_unknown_tool_id_in_disabled_tools(admin_client):
    body = assert_error(
        put_one(admin_client, "disabledTools", ["resize", "no-such-tool"]), 400, "VALIDATION_ERROR"
    )
    assert "no-such-tool" in body["error"]
    assert not SiteSetting.objects.filter(key="disabledTools").exists()


@pytest.mark.parametrize("body", [{}, {"val": 3}, [3]])
def test_a_body_without_value_is_rejected(admin_client, body):
    response = admin_client.put("/api/v1/settings/loginAttemptLimit", body, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")
    assert not SiteSetting.objects.exists()


def test_a_user_cannot_write_settings(user_client):
    assert_error(put_one(user_client, "enableExperimentalTools", True), 403, "FORBIDDEN")
    response = user_client.put("/api/v1/settings", {"loginAttemptLimit": 3}, format="json")
    assert_error(response, 403, "FORBIDDEN")
    assert not SiteSetting.objects.exists()


def test_an_admin_api_key_can_write_settings(admin_user, api_key_for, client_for):
    client = client_for(api_key_for(admin_user))
    assert put_one(client, "loginAttemptLimit", 4).status_code == 200
    assert SiteSetting.objects.get(key="loginAttemptLimit").value == 4


# --- bulk --------------------------------------------------------------------------------


def test_bulk_update_stores_every_key(admin_client, user_client):
    response = admin_client.put(
        "/api/v1/settings",
        {"enableExperimentalTools": "true", "loginAttemptLimit": "3"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["settings"]["loginAttemptLimit"] == 3
    stored = current(user_client)
    assert stored["enableExperimentalTools"] is True
    assert stored["loginAttemptLimit"] == 3


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"bogus": 1}, "UNKNOWN_SETTING"),
        ({"customLogo": True}, "READONLY_SETTING"),
        ({"enableExperimentalTools": "maybe"}, "VALIDATION_ERROR"),
    ],
)
def test_bulk_update_is_all_or_nothing(admin_client, user_client, bad, code):
    body = {"loginAttemptLimit": 3, **bad}
    extra = {"known"} if code == "UNKNOWN_SETTING" else set()  # the list of known keys
    assert_error(admin_client.put("/api/v1/settings", body, format="json"), 400, code, extra)
    reversed_body = {**bad, "loginAttemptLimit": 3}
    assert_error(
        admin_client.put("/api/v1/settings", reversed_body, format="json"), 400, code, extra
    )
    assert not SiteSetting.objects.exists()
    assert current(user_client)["loginAttemptLimit"] != 3


@pytest.mark.parametrize("body", [{}, [], ["loginAttemptLimit"]])
def test_bulk_update_needs_a_non_empty_object(admin_client, body):
    response = admin_client.put("/api/v1/settings", body, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")


# --- disabledTools takes effect at once ----------------------------------------------------


def test_disabling_a_tool_refuses_it_on_the_next_request_and_reenabling_restores_it(
    admin_client, user_client
):
    assert put_one(admin_client, "disabledTools", ["resize"]).status_code == 200

    refused = run_resize(user_client)
    body = assert_error(refused, 403, "TOOL_DISABLED")
    assert "resize" in body["error"]

    assert put_one(admin_client, "disabledTools", "[]").status_code == 200
    allowed = run_resize(user_client)
    assert allowed.status_code == 200, allowed.content[:300]
    image = pyvips.Image.new_from_buffer(b"".join(allowed.streaming_content), "")
    assert image.width == 100


def test_the_catalog_marks_a_disabled_tool(admin_client, user_client):
    def enabled_flags() -> dict[str, bool]:
        response = user_client.get("/api/v1/tools")
        assert response.status_code == 200
        return {tool["id"]: tool["enabled"] for tool in response.json()["tools"]}

    assert enabled_flags()["resize"] is True
    put_one(admin_client, "disabledTools", ["resize"])
    flags = enabled_flags()
    assert flags["resize"] is False
    assert all(enabled for tool_id, enabled in flags.items() if tool_id != "resize")


# --- loginAttemptLimit takes effect at once ------------------------------------------------


def login(anon: Any, password: str) -> Any:
    return anon.post("/api/auth/login", {"username": "alice", "password": password}, format="json")


def test_a_lowered_login_attempt_limit_locks_out_on_the_next_attempt(admin_client, anon, user):
    assert put_one(admin_client, "loginAttemptLimit", "2").status_code == 200
    for _ in range(2):
        assert_error(login(anon, "wrong-password"), 401, "INVALID_CREDENTIALS")
    locked = login(anon, PASSWORD)
    body = assert_error(locked, 429, "LOGIN_THROTTLED", extra={"retryAfter"})
    assert body["retryAfter"] >= 1


def test_a_zero_login_attempt_limit_turns_the_lockout_off(admin_client, anon, user):
    assert put_one(admin_client, "loginAttemptLimit", 0).status_code == 200
    for _ in range(5):
        assert_error(login(anon, "wrong-password"), 401, "INVALID_CREDENTIALS")
    assert login(anon, PASSWORD).status_code == 200
