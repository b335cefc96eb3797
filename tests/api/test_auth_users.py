"""User administration: list, register, update role/team, reset password, delete (admin)."""

import uuid

import pytest

from apps.accounts.models import AuthSession, User
from apps.accounts.services import other_admins_exist
from apps.apikeys.models import ApiKey
from apps.teams.models import Team
from tests.api.support import assert_error
from tests.factories import PASSWORD, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

USERS = "/api/auth/users"
REGISTER = "/api/auth/register"
SESSION = "/api/auth/session"
STRONG = "plenty-strong-passphrase-7"
USER_FIELDS = {"id", "username", "role", "team", "teamId", "mustChangePassword", "createdAt"}


def register(client, **fields):
    body = {"username": "carol", "password": STRONG, **fields}
    return client.post(REGISTER, body, format="json")


def login(client, username: str, password: str):
    return client.post(
        "/api/auth/login", {"username": username, "password": password}, format="json"
    )


# --- list ---------------------------------------------------------------------------


def test_an_admin_lists_all_users_without_password_hashes(admin_client, admin_user, user):
    response = admin_client.get(USERS)

    assert response.status_code == 200
    users = response.json()["users"]
    assert [u["username"] for u in users] == ["alice", "boss"]
    assert all(set(u) == USER_FIELDS for u in users)
    boss = next(u for u in users if u["username"] == "boss")
    assert boss == {
        "id": str(admin_user.id),
        "username": "boss",
        "role": "admin",
        "team": "Default",
        "teamId": str(Team.default().id),
        "mustChangePassword": False,
        "createdAt": admin_user.date_joined.isoformat(),
    }
    assert admin_user.password not in response.content.decode()


def test_a_user_may_not_list_users(user_client):
    assert_error(user_client.get(USERS), 403, "FORBIDDEN")


def test_anonymous_may_not_list_users(anon):
    assert_error(anon.get(USERS), 401, "AUTH_REQUIRED")


# --- register -----------------------------------------------------------------------


def test_an_admin_registers_a_user_in_the_default_team(admin_client):
    response = register(admin_client)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["username"] == "carol"
    assert body["role"] == "user"
    assert body["team"] == "Default"
    assert body["teamId"] == str(Team.default().id)
    assert body["mustChangePassword"] is True
    carol = User.objects.get(username="carol")
    assert str(carol.id) == body["id"]
    assert carol.must_change_password is True
    assert carol.password != STRONG and carol.check_password(STRONG)


def test_a_registered_user_can_log_in_and_must_change_password(admin_client, anon):
    assert register(admin_client).status_code == 201

    response = login(anon, "carol", STRONG)

    assert response.status_code == 200
    assert response.json()["mustChangePassword"] is True


def test_it_registers_an_admin(admin_client, anon, client_for):
    assert register(admin_client, role="admin").status_code == 201

    token = login(anon, "carol", STRONG).json()["token"]
    carol = client_for(token)
    # A password an admin chose is temporary: the new user picks their own first.
    assert_error(carol.get(USERS), 403, "PASSWORD_CHANGE_REQUIRED")
    changed = carol.post(
        "/api/auth/change-password",
        {"currentPassword": STRONG, "newPassword": "carol's own passphrase"},
        format="json",
    )
    assert changed.status_code == 200
    assert carol.get(USERS).status_code == 200


def test_it_registers_into_a_team_given_by_name_in_any_case(admin_client):
    team = TeamFactory(name="Design")

    body = register(admin_client, team="design").json()

    assert body["teamId"] == str(team.id)
    assert body["team"] == "Design"
    assert User.objects.get(username="carol").team == team


def test_it_registers_into_a_team_given_by_id(admin_client):
    team = TeamFactory(name="Print")

    body = register(admin_client, team=str(team.id)).json()

    assert body["teamId"] == str(team.id)
    assert User.objects.get(username="carol").team == team


def test_a_blank_team_means_the_default_team(admin_client):
    assert register(admin_client, team="").json()["teamId"] == str(Team.default().id)


@pytest.mark.parametrize("team", ["No Such Team", str(uuid.uuid4())], ids=["name", "uuid"])
def test_it_refuses_an_unknown_team(admin_client, team):
    assert_error(register(admin_client, team=team), 400, "VALIDATION_ERROR")
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice"])
def test_it_refuses_a_username_that_exists_in_any_case(admin_client, user, taken):
    assert_error(register(admin_client, username=taken), 409, "CONFLICT")
    assert User.objects.filter(username__iexact="alice").count() == 1


@pytest.mark.parametrize("username", ["", "has space", "semi;colon", "ümlaut", "x" * 51], ids=str)
def test_it_refuses_a_bad_username(admin_client, username):
    assert_error(register(admin_client, username=username), 400, "VALIDATION_ERROR")
    assert User.objects.count() == 1


def test_it_accepts_a_username_of_fifty_allowed_characters(admin_client):
    name = "a.b-c_" + "d" * 44

    assert register(admin_client, username=name).status_code == 201


@pytest.mark.parametrize("role", ["root", "superuser", ""], ids=str)
def test_it_refuses_an_unknown_role(admin_client, role):
    assert_error(register(admin_client, role=role), 400, "VALIDATION_ERROR")
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.parametrize("weak", ["short", "password", "1234567890", "carol123"], ids=str)
def test_it_refuses_a_weak_password(admin_client, weak):
    assert_error(register(admin_client, password=weak), 400, "WEAK_PASSWORD")
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.parametrize("missing", ["username", "password"])
def test_it_refuses_a_registration_without_a_required_field(admin_client, missing):
    body = {"username": "carol", "password": STRONG}
    del body[missing]

    assert_error(admin_client.post(REGISTER, body, format="json"), 400, "VALIDATION_ERROR")


def test_a_user_may_not_register_users(user_client):
    assert_error(register(user_client), 403, "FORBIDDEN")
    assert not User.objects.filter(username="carol").exists()


def test_anonymous_may_not_register_users(anon):
    assert_error(register(anon), 401, "AUTH_REQUIRED")
    assert not User.objects.filter(username="carol").exists()


# --- update role / team -------------------------------------------------------------


def test_an_admin_moves_a_user_to_another_team(admin_client, user, client_for, session_token):
    team = TeamFactory(name="Ops")
    session = client_for(session_token(user))

    response = admin_client.put(f"{USERS}/{user.id}", {"team": "ops"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["user"]["teamId"] == str(team.id)
    user.refresh_from_db()
    assert user.team == team
    assert session.get(SESSION).status_code == 200  # a team move is no privilege change


def test_an_admin_moves_a_user_to_a_team_given_by_id(admin_client, user):
    team = TeamFactory(name="Ops")

    response = admin_client.put(f"{USERS}/{user.id}", {"team": str(team.id)}, format="json")

    assert response.json()["user"]["team"] == "Ops"


def test_it_refuses_to_move_a_user_to_an_unknown_team(admin_client, user):
    response = admin_client.put(f"{USERS}/{user.id}", {"team": "Nowhere"}, format="json")

    assert_error(response, 400, "VALIDATION_ERROR")
    user.refresh_from_db()
    assert user.team == Team.default()


def test_an_admin_promotes_a_user(admin_client, user):
    response = admin_client.put(f"{USERS}/{user.id}", {"role": "admin"}, format="json")

    assert response.status_code == 200
    assert response.json()["user"]["role"] == "admin"
    user.refresh_from_db()
    assert user.role == "admin"


def test_it_refuses_an_unknown_role_on_update(admin_client, user):
    response = admin_client.put(f"{USERS}/{user.id}", {"role": "owner"}, format="json")

    assert_error(response, 400, "VALIDATION_ERROR")
    user.refresh_from_db()
    assert user.role == "user"


def test_demoting_an_admin_ends_their_sessions_and_keys(
    admin_client, client_for, session_token, api_key_for, user
):
    deputy = UserFactory(username="deputy", role="admin")
    deputy_session = client_for(session_token(deputy))
    deputy_key = client_for(api_key_for(deputy))
    bystander = client_for(session_token(user))

    response = admin_client.put(f"{USERS}/{deputy.id}", {"role": "user"}, format="json")

    assert response.status_code == 200
    assert response.json()["user"]["role"] == "user"
    assert_error(deputy_session.get(USERS), 401, "AUTH_INVALID")
    assert_error(deputy_key.get(USERS), 401, "AUTH_INVALID")
    assert not AuthSession.objects.filter(user=deputy).exists()
    assert not ApiKey.objects.filter(user=deputy).exists()
    assert bystander.get(SESSION).status_code == 200
    assert admin_client.get(SESSION).status_code == 200


def test_a_refused_update_changes_nothing(admin_client, client_for, session_token):
    deputy = UserFactory(username="deputy", role="admin")
    session = client_for(session_token(deputy))

    response = admin_client.put(
        f"{USERS}/{deputy.id}", {"role": "user", "team": "Nowhere"}, format="json"
    )

    assert_error(response, 400, "VALIDATION_ERROR")
    deputy.refresh_from_db()
    assert deputy.role == "admin"
    assert session.get(USERS).status_code == 200


def test_a_demoted_admin_logs_back_in_as_a_user(admin_client, anon, client_for):
    deputy = UserFactory(username="deputy", role="admin")
    admin_client.put(f"{USERS}/{deputy.id}", {"role": "user"}, format="json")

    token = login(anon, "deputy", PASSWORD).json()["token"]

    assert_error(client_for(token).get(USERS), 403, "FORBIDDEN")


def test_an_admin_cannot_change_their_own_role(admin_client, admin_user):
    response = admin_client.put(f"{USERS}/{admin_user.id}", {"role": "user"}, format="json")

    assert_error(response, 400, "SELF_DEMOTE")
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"
    assert admin_client.get(USERS).status_code == 200


def test_an_admin_can_change_their_own_team(admin_client, admin_user):
    team = TeamFactory(name="Board")

    response = admin_client.put(f"{USERS}/{admin_user.id}", {"team": "Board"}, format="json")

    assert response.status_code == 200
    admin_user.refresh_from_db()
    assert admin_user.team == team


def test_updating_an_unknown_user_is_404(admin_client):
    response = admin_client.put(f"{USERS}/{uuid.uuid4()}", {"role": "user"}, format="json")

    assert_error(response, 404, "NOT_FOUND")


def test_a_user_may_not_update_users(user_client, user, other_user):
    response = user_client.put(f"{USERS}/{user.id}", {"role": "admin"}, format="json")

    assert_error(response, 403, "FORBIDDEN")
    user.refresh_from_db()
    assert user.role == "user"


def test_the_last_admin_guard_counts_only_other_active_admins(admin_user):
    assert other_admins_exist(admin_user) is False
    UserFactory(username="retired", role="admin", is_active=False)
    assert other_admins_exist(admin_user) is False
    UserFactory(username="deputy", role="admin")
    assert other_admins_exist(admin_user) is True


# --- reset password -----------------------------------------------------------------


def reset(client, target: User, password: str = STRONG):
    return client.post(
        f"{USERS}/{target.id}/reset-password", {"newPassword": password}, format="json"
    )


def test_an_admin_resets_a_password(admin_client, anon, user):
    response = reset(admin_client, user)

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    user.refresh_from_db()
    assert user.must_change_password is True
    assert login(anon, "alice", PASSWORD).status_code == 401
    after = login(anon, "alice", STRONG)
    assert after.status_code == 200
    assert after.json()["mustChangePassword"] is True


def test_a_reset_ends_the_users_sessions_and_keys(
    admin_client, user, other_user, client_for, session_token, api_key_for
):
    session = client_for(session_token(user))
    key = client_for(api_key_for(user))
    bystander = client_for(session_token(other_user))

    assert reset(admin_client, user).status_code == 200

    assert_error(session.get(SESSION), 401, "AUTH_INVALID")
    assert_error(key.get(SESSION), 401, "AUTH_INVALID")
    assert not ApiKey.objects.filter(user=user).exists()
    assert bystander.get(SESSION).status_code == 200
    assert admin_client.get(SESSION).status_code == 200


def test_a_reset_refuses_a_weak_password(admin_client, user, client_for, session_token):
    session = client_for(session_token(user))

    assert_error(reset(admin_client, user, "123"), 400, "WEAK_PASSWORD")

    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert user.must_change_password is False
    assert session.get(SESSION).status_code == 200


def test_a_reset_needs_a_new_password(admin_client, user):
    response = admin_client.post(f"{USERS}/{user.id}/reset-password", {}, format="json")

    assert_error(response, 400, "VALIDATION_ERROR")


def test_resetting_an_unknown_user_is_404(admin_client):
    response = admin_client.post(
        f"{USERS}/{uuid.uuid4()}/reset-password", {"newPassword": STRONG}, format="json"
    )

    assert_error(response, 404, "NOT_FOUND")


def test_a_user_may_not_reset_passwords(user_client, other_user):
    assert_error(reset(user_client, other_user), 403, "FORBIDDEN")
    other_user.refresh_from_db()
    assert other_user.check_password(PASSWORD)


# --- delete -------------------------------------------------------------------------


def test_an_admin_deletes_a_user_with_their_sessions_and_keys(
    admin_client, user, client_for, session_token, api_key_for
):
    session = client_for(session_token(user))
    key = client_for(api_key_for(user))

    response = admin_client.delete(f"{USERS}/{user.id}")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert not User.objects.filter(pk=user.pk).exists()
    assert not AuthSession.objects.filter(user_id=user.pk).exists()
    assert not ApiKey.objects.filter(user_id=user.pk).exists()
    assert_error(session.get(SESSION), 401, "AUTH_INVALID")
    assert_error(key.get(SESSION), 401, "AUTH_INVALID")


def test_an_admin_deletes_another_admin(admin_client):
    deputy = UserFactory(username="deputy", role="admin")

    assert admin_client.delete(f"{USERS}/{deputy.id}").status_code == 200
    assert not User.objects.filter(pk=deputy.pk).exists()


def test_an_admin_cannot_delete_themselves(admin_client, admin_user):
    assert_error(admin_client.delete(f"{USERS}/{admin_user.id}"), 400, "SELF_DELETE")
    assert User.objects.filter(pk=admin_user.pk).exists()


def test_deleting_an_unknown_user_is_404(admin_client):
    assert_error(admin_client.delete(f"{USERS}/{uuid.uuid4()}"), 404, "NOT_FOUND")


@pytest.mark.parametrize("bad_id", ["42", "not-a-uuid"])
def test_a_non_uuid_user_id_is_a_json_404(admin_client, bad_id):
    assert_error(admin_client.delete(f"{USERS}/{bad_id}"), 404, "NOT_FOUND")
    assert_error(admin_client.put(f"{USERS}/{bad_id}", {}, format="json"), 404, "NOT_FOUND")


def test_a_user_may_not_delete_users(user_client, other_user):
    assert_error(user_client.delete(f"{USERS}/{other_user.id}"), 403, "FORBIDDEN")
    assert User.objects.filter(pk=other_user.pk).exists()


def test_anonymous_may_not_delete_users(anon, user):
    assert_error(anon.delete(f"{USERS}/{user.id}"), 401, "AUTH_REQUIRED")
    assert User.objects.filter(pk=user.pk).exists()
