"""POST /api/auth/change-password: own password; ends all other sessions and all API keys."""

import pytest

from apps.accounts.models import AuthSession
from apps.apikeys.models import ApiKey
from tests.api.support import assert_error
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CHANGE = "/api/auth/change-password"
SESSION = "/api/auth/session"
NEW_PASSWORD = "a-much-better-passphrase-42"


def change(client, current: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.post(CHANGE, {"currentPassword": current, "newPassword": new}, format="json")


def login_status(anon, username: str, password: str) -> int:
    return anon.post(
        "/api/auth/login", {"username": username, "password": password}, format="json"
    ).status_code


def test_it_changes_the_password(anon, user, user_client):
    response = change(user_client)

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert login_status(anon, "alice", NEW_PASSWORD) == 200
    assert login_status(anon, "alice", PASSWORD) == 401


def test_it_clears_must_change_password(client_for, session_token):
    newbie = UserFactory(username="newbie", must_change_password=True)

    assert change(client_for(session_token(newbie))).status_code == 200

    newbie.refresh_from_db()
    assert newbie.must_change_password is False


def test_it_refuses_a_wrong_current_password(user, user_client):
    assert_error(change(user_client, current="not-my-password"), 400, "INVALID_PASSWORD")

    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("weak", ["short1", "12345678901", "password123", "alice1234"], ids=str)
def test_it_refuses_a_weak_new_password(user, user_client, api_key_for, client_for, weak):
    key_client = client_for(api_key_for(user))

    assert_error(change(user_client, new=weak), 400, "WEAK_PASSWORD")

    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert key_client.get(SESSION).status_code == 200


def test_it_refuses_the_same_password_again(user_client):
    assert_error(change(user_client, new=PASSWORD), 400, "PASSWORD_UNCHANGED")


@pytest.mark.parametrize(
    "body",
    [{}, {"currentPassword": PASSWORD}, {"newPassword": NEW_PASSWORD}],
    ids=["empty", "no-new", "no-current"],
)
def test_it_rejects_missing_fields(user_client, body):
    assert_error(user_client.post(CHANGE, body, format="json"), 400, "VALIDATION_ERROR")


def test_it_needs_authentication(anon):
    assert_error(change(anon), 401, "AUTH_REQUIRED")


def test_the_current_session_survives_but_all_other_credentials_end(
    user, other_user, client_for, session_token, api_key_for
):
    current = client_for(session_token(user))
    other_sessions = [client_for(session_token(user)) for _ in range(2)]
    keys = [client_for(api_key_for(user)) for _ in range(2)]
    bystander_session = client_for(session_token(other_user))
    bystander_key = client_for(api_key_for(other_user))

    assert change(current).status_code == 200

    assert current.get(SESSION).status_code == 200
    for client in other_sessions + keys:
        assert_error(client.get(SESSION), 401, "AUTH_INVALID")
    assert AuthSession.objects.filter(user=user).count() == 1
    assert not ApiKey.objects.filter(user=user).exists()
    assert bystander_session.get(SESSION).status_code == 200
    assert bystander_key.get(SESSION).status_code == 200


def test_changing_the_password_with_an_api_key_ends_every_session_and_key(
    user, client_for, session_token, api_key_for
):
    key_client = client_for(api_key_for(user))
    session = client_for(session_token(user))

    assert change(key_client).status_code == 200

    assert_error(key_client.get(SESSION), 401, "AUTH_INVALID")
    assert_error(session.get(SESSION), 401, "AUTH_INVALID")
    assert not AuthSession.objects.filter(user=user).exists()


def test_a_refused_change_keeps_the_other_sessions(user, client_for, session_token):
    current = client_for(session_token(user))
    other = client_for(session_token(user))

    assert change(current, current="wrong-password").status_code == 400

    assert other.get(SESSION).status_code == 200
