"""POST /api/auth/login, GET /api/auth/session, POST /api/auth/logout and session storage."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import AuthSession
from apps.core.tokens import sha256_hex
from tests.api.support import assert_error
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"
SESSION = "/api/auth/session"
LOGOUT = "/api/auth/logout"


def login(client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, format="json", **extra)


def test_it_logs_in_with_the_documented_response_shape(anon, user):
    response = login(anon, "alice")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"token", "expiresAt", "user"}
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["username"] == "alice"
    assert body["user"]["role"] == "user"
    assert body["user"]["team"] == "Default"
    assert body["user"]["mustChangePassword"] is False
    assert body["mustChangePassword"] is False
    assert "password" not in body["user"]


def test_the_login_token_works_as_a_bearer_token(anon, user, client_for):
    token = login(anon, "alice").json()["token"]

    response = client_for(token).get(SESSION)

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["username"] == "alice"
    assert body["authMethod"] == "session"
    assert body["expiresAt"] is not None


def test_it_logs_in_with_a_differently_cased_username(anon, user):
    response = login(anon, "ALICE")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(user.id)


def test_it_reports_must_change_password_at_login(anon):
    UserFactory(username="newbie", must_change_password=True)

    body = login(anon, "newbie").json()

    assert body["mustChangePassword"] is True
    assert body["user"]["mustChangePassword"] is True


def test_wrong_password_and_unknown_user_get_the_same_401_body(anon, user):
    wrong_password = login(anon, "alice", "not-the-password")
    unknown_user = login(anon, "nobody-here", "not-the-password")

    assert_error(wrong_password, 401, "INVALID_CREDENTIALS")
    assert_error(unknown_user, 401, "INVALID_CREDENTIALS")
    assert wrong_password.json() == unknown_user.json()
    assert AuthSession.objects.count() == 0


def test_an_inactive_user_cannot_log_in_even_with_the_right_password(anon):
    UserFactory(username="gone", is_active=False)

    assert_error(login(anon, "gone"), 401, "INVALID_CREDENTIALS")


def test_it_rejects_a_session_of_a_deactivated_user(user, client_for, session_token):
    client = client_for(session_token(user))
    user.is_active = False
    user.save()

    assert_error(client.get(SESSION), 401, "AUTH_INVALID")


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "alice"}, {"password": PASSWORD}, {"username": "", "password": "x"}],
    ids=["empty", "no-password", "no-username", "blank-username"],
)
def test_it_rejects_login_with_missing_fields(anon, user, body):
    assert_error(anon.post(LOGIN, body, format="json"), 400, "VALIDATION_ERROR")


def test_it_rejects_a_login_body_that_is_not_json(anon, user):
    response = anon.post(LOGIN, "{not json", content_type="application/json")

    assert_error(response, 400, "INVALID_REQUEST_BODY")


def test_the_session_row_holds_only_a_sha256_of_the_token(anon, user):
    token = login(anon, "alice").json()["token"]

    session = AuthSession.objects.get(user=user)
    assert session.token_hash == sha256_hex(token)
    stored = [str(getattr(session, f.attname)) for f in AuthSession._meta.concrete_fields]
    assert all(token not in value for value in stored)
    assert not AuthSession.objects.filter(token_hash=token).exists()


def test_sessions_last_24_hours_by_default(anon, user, settings):
    assert settings.SESSION_TTL_HOURS == 24
    before = timezone.now()

    body = login(anon, "alice").json()

    expires = datetime.fromisoformat(body["expiresAt"])
    ttl = timedelta(hours=24)
    assert before + ttl <= expires <= timezone.now() + ttl
    session = AuthSession.objects.get(user=user)
    assert session.expires_at == expires


def test_session_lifetime_follows_session_ttl_hours(anon, user, settings):
    settings.SESSION_TTL_HOURS = 2
    before = timezone.now()

    expires = datetime.fromisoformat(login(anon, "alice").json()["expiresAt"])

    assert before + timedelta(hours=2) <= expires <= timezone.now() + timedelta(hours=2)


def test_an_expired_session_gets_401_and_is_deleted(user, client_for, session_token):
    token = session_token(user)
    AuthSession.objects.filter(token_hash=sha256_hex(token)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert_error(client_for(token).get(SESSION), 401, "AUTH_INVALID")
    assert not AuthSession.objects.filter(token_hash=sha256_hex(token)).exists()


def test_a_session_just_before_expiry_still_works(user, client_for, session_token):
    token = session_token(user)
    AuthSession.objects.filter(token_hash=sha256_hex(token)).update(
        expires_at=timezone.now() + timedelta(minutes=1)
    )

    assert client_for(token).get(SESSION).status_code == 200


def test_it_rejects_an_unknown_bearer_token(client_for, user):
    assert_error(client_for("made-up-token").get(SESSION), 401, "AUTH_INVALID")


def test_it_asks_for_authentication_without_a_token(anon):
    response = anon.get(SESSION)

    assert_error(response, 401, "AUTH_REQUIRED")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_session_endpoint_reports_api_key_auth(user, api_key_for, client_for):
    body = client_for(api_key_for(user)).get(SESSION).json()

    assert body["authMethod"] == "apiKey"
    assert body["expiresAt"] is None
    assert body["user"]["username"] == "alice"


def test_each_login_creates_its_own_session(anon, user):
    first = login(anon, "alice").json()["token"]
    second = login(anon, "alice").json()["token"]

    assert first != second
    assert AuthSession.objects.filter(user=user).count() == 2


def test_logout_ends_only_the_session_that_made_the_request(
    user, other_user, client_for, session_token
):
    leaving = client_for(session_token(user))
    staying = client_for(session_token(user))
    bystander = client_for(session_token(other_user))

    response = leaving.post(LOGOUT)

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert_error(leaving.get(SESSION), 401, "AUTH_INVALID")
    assert staying.get(SESSION).status_code == 200
    assert bystander.get(SESSION).status_code == 200
    assert AuthSession.objects.filter(user=user).count() == 1


def test_logout_with_an_api_key_is_refused(user, api_key_for, session_token, client_for):
    session = client_for(session_token(user))
    key_client = client_for(api_key_for(user))

    assert_error(key_client.post(LOGOUT), 400, "NOT_A_SESSION")
    assert key_client.get(SESSION).status_code == 200
    assert session.get(SESSION).status_code == 200


def test_logout_needs_authentication(anon):
    assert_error(anon.post(LOGOUT), 401, "AUTH_REQUIRED")


def test_a_session_token_never_looks_like_an_api_key(anon, user, client_for, monkeypatch):
    from apps.accounts import sessions

    # One random token in 64**3 starts with "si_"; force that draw first.
    draws = iter(["si_" + "x" * 40, "plain-" + "y" * 40])
    monkeypatch.setattr(sessions.secrets, "token_urlsafe", lambda n: next(draws))

    token = login(anon, "alice").json()["token"]

    assert not token.startswith("si_")
    assert client_for(token).get(SESSION).status_code == 200
