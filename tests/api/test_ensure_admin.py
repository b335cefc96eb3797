"""`manage.py ensure_admin`: the first admin on an empty install, and auth housekeeping."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import AuthSession, LoginFailure, User
from apps.accounts.sessions import create_session
from apps.apikeys.models import ApiKey
from apps.core.tokens import sha256_hex
from apps.teams.models import Team
from tests.api.support import assert_error
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def ensure_admin() -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_it_creates_admin_admin_on_an_empty_install():
    output = ensure_admin()

    admin = User.objects.get()
    assert admin.username == "admin"
    assert admin.role == "admin"
    assert admin.must_change_password is True
    assert admin.team == Team.default()
    assert admin.is_active
    assert admin.check_password("admin")
    assert admin.password != "admin"
    assert "admin" in output


def test_running_it_twice_creates_one_admin():
    ensure_admin()
    second = ensure_admin()

    assert User.objects.count() == 1
    assert second == ""


def test_it_creates_nobody_when_a_user_exists():
    UserFactory(username="alice", role="user")

    ensure_admin()

    assert list(User.objects.values_list("username", flat=True)) == ["alice"]


def test_it_uses_default_username_and_password(settings, anon):
    settings.DEFAULT_USERNAME = "root"
    settings.DEFAULT_PASSWORD = "first-login-secret"

    ensure_admin()

    response = anon.post(
        "/api/auth/login",
        {"username": "root", "password": "first-login-secret"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["user"]["role"] == "admin"


def test_the_created_admin_logs_in_with_admin_admin(anon, client_for):
    ensure_admin()

    response = anon.post(
        "/api/auth/login", {"username": "admin", "password": "admin"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["mustChangePassword"] is True
    assert body["user"]["role"] == "admin"
    assert body["user"]["team"] == "Default"


def test_the_default_admin_must_choose_a_password_before_anything_else(anon, client_for):
    """While mustChangePassword is set: the session, change-password and logout work, and
    every other call is 403 PASSWORD_CHANGE_REQUIRED (with a session or an API key)."""
    ensure_admin()
    token = anon.post(
        "/api/auth/login", {"username": "admin", "password": "admin"}, format="json"
    ).json()["token"]
    admin = client_for(token)

    assert admin.get("/api/auth/session").status_code == 200
    for response in (
        admin.get("/api/auth/users"),
        admin.get("/api/v1/files"),
        admin.post("/api/v1/api-keys", {"name": "k"}, format="json"),
        admin.get("/api/v1/settings"),
    ):
        assert_error(response, 403, "PASSWORD_CHANGE_REQUIRED")
    admin_user = User.objects.get(username="admin")
    ApiKey.objects.create(
        user=admin_user, name="old", key_hash=sha256_hex("si_test"), prefix="si_test"
    )
    assert_error(client_for("si_test").get("/api/v1/files"), 403, "PASSWORD_CHANGE_REQUIRED")

    changed = admin.post(
        "/api/auth/change-password",
        {"currentPassword": "admin", "newPassword": "a-much-better-password"},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert admin.get("/api/auth/users").status_code == 200


def test_it_purges_expired_sessions_and_old_login_failures(settings):
    user = UserFactory(username="alice")
    _, live = create_session(user)
    _, expired = create_session(user)
    AuthSession.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    old = LoginFailure.objects.create(username="alice", ip="10.0.0.1")
    recent = LoginFailure.objects.create(username="alice", ip="10.0.0.1")
    LoginFailure.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.LOGIN_COOLDOWN_S + 1)
    )

    ensure_admin()

    assert list(AuthSession.objects.values_list("pk", flat=True)) == [live.pk]
    assert list(LoginFailure.objects.values_list("pk", flat=True)) == [recent.pk]
