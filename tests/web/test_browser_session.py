"""The browser's way in: Django's session cookie holds an AuthSession server-side; the API
accepts it with Django's CSRF check on unsafe methods; pages send everyone else to sign in."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import AuthSession
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(client: Client, username: str, password: str = PASSWORD) -> Client:
    token = str(client.get("/login").context["csrf_token"])
    response = client.post(
        "/login", {"username": username, "password": password, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302, response.content[:300]
    return client


def csrf_token(client: Client) -> str:
    page = client.get("/")
    return str(page.context["csrf_token"])


def test_signing_in_on_the_page_opens_an_api_session_for_the_cookie(user):
    client = signed_in(Client(), user.username)

    session = client.get("/api/auth/session")

    assert session.status_code == 200
    assert session.json()["user"]["username"] == user.username
    assert session.json()["authMethod"] == "session"
    assert AuthSession.objects.filter(user=user).count() == 1
    # The cookie is Django's session id: the token itself never reaches the browser.
    assert "token" not in client.cookies["pixelsmith_session"].value


def test_an_unsafe_api_call_with_the_cookie_needs_the_csrf_token(user):
    client = signed_in(Client(enforce_csrf_checks=True), user.username)

    refused = client.post("/api/v1/api-keys", {"name": "ci"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]

    allowed = client.post(
        "/api/v1/api-keys",
        {"name": "ci"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf_token(client),
    )
    assert allowed.status_code == 201, allowed.content


def test_a_bearer_token_needs_no_csrf_token_even_beside_a_cookie(user_client):
    response = user_client.post("/api/v1/api-keys", {"name": "x"}, format="json")

    assert response.status_code == 201


def test_signing_out_ends_the_api_session_too(user):
    client = signed_in(Client(), user.username)
    stolen = client.cookies["pixelsmith_session"].value

    client.post("/logout")

    replay = Client()
    replay.cookies["pixelsmith_session"] = stolen
    assert replay.get("/api/auth/session").status_code == 401
    assert not AuthSession.objects.filter(user=user).exists()


def test_sign_out_is_post_only(user):
    client = signed_in(Client(), user.username)

    assert client.get("/logout").status_code == 405
    assert client.get("/api/auth/session").status_code == 200


def test_a_page_sends_a_stranger_to_sign_in_and_back(db):
    response = Client().get("/tools/resize?x=1")

    assert response.status_code == 302
    assert response["Location"] == "/login?next=/tools/resize%3Fx%3D1"


def test_sign_in_never_redirects_to_another_site(user):
    response = Client().post(
        "/login",
        {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_wrong_password_is_shown_on_the_form(user):
    response = Client().post("/login", {"username": user.username, "password": "nope-nope"})

    assert response.status_code == 401
    assert b"Invalid username or password" in response.content
    assert not AuthSession.objects.exists()


def test_the_sign_in_form_shares_the_apis_lock_out(settings, user):
    settings.LOGIN_ATTEMPT_LIMIT = 2
    client = Client()
    for _ in range(2):
        client.post("/login", {"username": user.username, "password": "wrong-wrong"})

    response = client.post("/login", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 429
    assert b"Too many failed attempts" in response.content


def test_a_password_to_change_blocks_pages_and_the_api_until_changed():
    user = UserFactory(username="fresh", must_change_password=True)
    client = signed_in(Client(), user.username)

    assert client.get("/").status_code == 302
    assert client.get("/")["Location"] == "/password?next=/"
    blocked = client.get("/api/v1/jobs")
    assert blocked.status_code == 403
    assert blocked.json()["code"] == "PASSWORD_CHANGE_REQUIRED"

    changed = client.post(
        "/password",
        {
            "current_password": PASSWORD,
            "new_password": "a-Better-pass-77",
            "confirm_password": "a-Better-pass-77",
        },
    )
    assert changed.status_code == 302
    assert client.get("/api/v1/jobs").status_code == 200
    assert client.get("/").status_code == 200


def test_a_weak_new_password_is_refused_on_the_form():
    user = UserFactory(username="fresh2", must_change_password=True)
    client = signed_in(Client(), user.username)

    response = client.post(
        "/password",
        {"current_password": PASSWORD, "new_password": "12345678", "confirm_password": "12345678"},
    )

    assert response.status_code == 400
    assert b"too common" in response.content or b"entirely numeric" in response.content
    user.refresh_from_db()
    assert user.must_change_password


def test_without_auth_the_pages_open_to_anyone(settings, db):
    settings.AUTH_ENABLED = False

    assert Client().get("/").status_code == 200
    assert Client().get("/login").status_code == 302


def test_the_progress_stream_accepts_the_cookie(user):
    from apps.jobs.models import Job

    job = Job.objects.create(owner=user, tool_id="resize", status=Job.Status.COMPLETED)
    client = signed_in(Client(), user.username)

    response = client.get(f"/api/v1/jobs/{job.pk}/progress")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"


def test_an_unknown_page_is_a_page_for_browsers_and_json_for_the_api(user):
    client = signed_in(Client(), user.username)

    page = client.get("/no-such-page", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    api = client.get("/api/v1/no-such-route", HTTP_ACCEPT="text/html")
    assert api.status_code == 404
    assert api.json()["code"] == "NOT_FOUND"
