"""/api/v1/teams: list (any signed-in user), create/rename/delete (admin only)."""

import uuid
from typing import Any, cast

import pytest

from apps.teams.models import Team
from tests.api.support import assert_error
from tests.factories import TeamFactory, UserFactory


def make_team(name: str) -> Team:
    return cast(Team, TeamFactory(name=name))


def teams_by_name(client: Any) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/teams")
    assert response.status_code == 200
    return {team["name"]: team for team in response.json()["teams"]}


# --- listing ---------------------------------------------------------------------------


def test_any_signed_in_user_sees_the_default_team_with_its_member_count(user_client, user):
    UserFactory(username="carol")  # joins the default team too
    teams = teams_by_name(user_client)
    default = teams["Default"]
    assert default["isDefault"] is True
    assert default["memberCount"] == 2
    assert uuid.UUID(default["id"])


def test_listing_counts_members_per_team(admin_client, admin_user):
    design = make_team("Design")
    make_team("Empty")
    UserFactory(username="d1", team=design)
    UserFactory(username="d2", team=design)
    teams = teams_by_name(admin_client)
    assert teams["Design"]["memberCount"] == 2
    assert teams["Design"]["isDefault"] is False
    assert teams["Empty"]["memberCount"] == 0
    assert teams["Default"]["memberCount"] == 1  # the admin


def test_listing_teams_requires_authentication(anon, db):
    assert_error(anon.get("/api/v1/teams"), 401, "AUTH_REQUIRED")


# --- create ------------------------------------------------------------------------------


def test_admin_creates_a_team_with_a_trimmed_name(admin_client):
    response = admin_client.post("/api/v1/teams", {"name": "  Design  "}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Design"
    assert body["isDefault"] is False
    assert body["memberCount"] == 0
    team = Team.objects.get(pk=body["id"])
    assert team.name == "Design"


def test_a_fifty_character_name_is_accepted_after_trimming(admin_client):
    name = "x" * 50
    response = admin_client.post("/api/v1/teams", {"name": f" {name} "}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == name


@pytest.mark.parametrize("name", ["", "   ", "x" * 51])
def test_it_rejects_an_empty_or_too_long_team_name(admin_client, name):
    response = admin_client.post("/api/v1/teams", {"name": name}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")
    assert not Team.objects.filter(is_default=False).exists()


def test_it_rejects_a_create_without_a_name(admin_client):
    assert_error(admin_client.post("/api/v1/teams", {}, format="json"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("duplicate", ["Design", "design", "DESIGN", " dEsIgN "])
def test_it_rejects_a_duplicate_name_case_insensitively(admin_client, duplicate):
    make_team("Design")
    response = admin_client.post("/api/v1/teams", {"name": duplicate}, format="json")
    assert_error(response, 409, "CONFLICT")
    assert Team.objects.filter(name__iexact="design").count() == 1


def test_a_new_team_may_not_take_the_default_teams_name(admin_client):
    assert_error(
        admin_client.post("/api/v1/teams", {"name": "default"}, format="json"), 409, "CONFLICT"
    )


# --- rename ------------------------------------------------------------------------------


def test_admin_renames_a_team(admin_client):
    team = make_team("Design")
    UserFactory(username="member", team=team)
    response = admin_client.put(f"/api/v1/teams/{team.id}", {"name": " Brand "}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["team"]["name"] == "Brand"
    assert body["team"]["memberCount"] == 1
    team.refresh_from_db()
    assert team.name == "Brand"


def test_renaming_a_team_to_a_different_case_of_its_own_name_is_allowed(admin_client):
    team = make_team("design")
    response = admin_client.put(f"/api/v1/teams/{team.id}", {"name": "Design"}, format="json")
    assert response.status_code == 200
    team.refresh_from_db()
    assert team.name == "Design"


def test_renaming_to_an_existing_name_is_a_conflict(admin_client):
    make_team("Design")
    team = make_team("Sales")
    response = admin_client.put(f"/api/v1/teams/{team.id}", {"name": "DESIGN"}, format="json")
    assert_error(response, 409, "CONFLICT")
    team.refresh_from_db()
    assert team.name == "Sales"


def test_renaming_with_an_invalid_name_is_rejected(admin_client):
    team = make_team("Sales")
    response = admin_client.put(f"/api/v1/teams/{team.id}", {"name": "y" * 51}, format="json")
    assert_error(response, 400, "VALIDATION_ERROR")
    team.refresh_from_db()
    assert team.name == "Sales"


def test_renaming_an_unknown_team_is_not_found(admin_client):
    response = admin_client.put(f"/api/v1/teams/{uuid.uuid4()}", {"name": "X"}, format="json")
    assert_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_team_id_that_is_not_a_uuid_is_a_json_404(admin_client, method):
    response = getattr(admin_client, method)("/api/v1/teams/not-a-uuid", {"name": "X"})
    assert_error(response, 404, "NOT_FOUND")


# --- delete ------------------------------------------------------------------------------


def test_admin_deletes_an_empty_team(admin_client):
    team = make_team("Temp")
    response = admin_client.delete(f"/api/v1/teams/{team.id}")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert not Team.objects.filter(pk=team.pk).exists()
    assert "Temp" not in teams_by_name(admin_client)


def test_the_default_team_cannot_be_deleted(admin_client):
    default = Team.default()
    response = admin_client.delete(f"/api/v1/teams/{default.id}")
    assert_error(response, 409, "DEFAULT_TEAM")
    assert Team.objects.filter(pk=default.pk, is_default=True).exists()


def test_the_default_team_cannot_be_deleted_even_when_empty(admin_client, admin_user):
    other = make_team("Admins")
    admin_user.team = other
    admin_user.save()
    default = Team.default()
    assert not default.members.exists()
    assert_error(admin_client.delete(f"/api/v1/teams/{default.id}"), 409, "DEFAULT_TEAM")


def test_a_team_with_members_cannot_be_deleted(admin_client):
    team = make_team("Design")
    UserFactory(username="m1", team=team)
    UserFactory(username="m2", team=team)
    body = assert_error(admin_client.delete(f"/api/v1/teams/{team.id}"), 409, "TEAM_HAS_MEMBERS")
    assert "2 member" in body["error"]
    assert "move them" in body["error"]
    assert Team.objects.filter(pk=team.pk).exists()


def test_deleting_an_unknown_team_is_not_found(admin_client):
    assert_error(admin_client.delete(f"/api/v1/teams/{uuid.uuid4()}"), 404, "NOT_FOUND")


# --- permissions -------------------------------------------------------------------------


def test_a_user_cannot_create_teams(user_client):
    response = user_client.post("/api/v1/teams", {"name": "Mine"}, format="json")
    assert_error(response, 403, "FORBIDDEN")
    assert not Team.objects.filter(name="Mine").exists()


def test_a_user_cannot_rename_teams(user_client):
    team = make_team("Design")
    response = user_client.put(f"/api/v1/teams/{team.id}", {"name": "Hacked"}, format="json")
    assert_error(response, 403, "FORBIDDEN")
    team.refresh_from_db()
    assert team.name == "Design"


def test_a_user_cannot_delete_teams(user_client):
    team = make_team("Design")
    assert_error(user_client.delete(f"/api/v1/teams/{team.id}"), 403, "FORBIDDEN")
    assert Team.objects.filter(pk=team.pk).exists()


def test_an_admin_api_key_can_create_teams(admin_user, api_key_for, client_for):
    client = client_for(api_key_for(admin_user))
    response = client.post("/api/v1/teams", {"name": "ByKey"}, format="json")
    assert response.status_code == 201
    assert Team.objects.filter(name="ByKey").exists()


def test_a_users_api_key_cannot_create_teams(user, api_key_for, client_for):
    client = client_for(api_key_for(user))
    response = client.post("/api/v1/teams", {"name": "ByKey"}, format="json")
    assert_error(response, 403, "FORBIDDEN")
