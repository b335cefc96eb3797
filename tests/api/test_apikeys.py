"""/api/v1/api-keys: `si_` keys shown once, stored as SHA-256, acting with the owner's role."""

import re
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from apps.apikeys.models import ApiKey
from apps.core.tokens import sha256_hex
from tests.api.support import assert_error

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys"
SESSION = "/api/auth/session"
USERS = "/api/auth/users"
KEY_RE = re.compile(r"^si_[0-9a-f]{96}$")
LISTED_FIELDS = {"id", "name", "prefix", "createdAt", "lastUsedAt"}


def create(client, name: str = "my-script"):
    return client.post(KEYS, {"name": name}, format="json")


def test_it_creates_a_key_shown_once(user_client, user):
    before = timezone.now()

    response = create(user_client)

    assert response.status_code == 201
    body = response.json()
    assert KEY_RE.match(body["key"])
    assert body["name"] == "my-script"
    assert body["prefix"] == body["key"][:11]
    assert body["lastUsedAt"] is None
    assert datetime.fromisoformat(body["createdAt"]) >= before
    key = ApiKey.objects.get(pk=body["id"])
    assert key.user == user
    assert key.name == "my-script"


def test_the_database_holds_only_the_sha256_of_the_key(user_client):
    raw = create(user_client).json()["key"]

    key = ApiKey.objects.get()
    assert key.key_hash == sha256_hex(raw)
    stored = [str(getattr(key, f.attname)) for f in ApiKey._meta.concrete_fields]
    assert all(raw not in value and raw[3:] not in value for value in stored)
    assert len(key.prefix) == 11  # "si_" + 8 of the 96 hex characters, to recognise it


def test_every_key_is_different(user_client):
    keys = {create(user_client).json()["key"] for _ in range(5)}

    assert len(keys) == 5


def test_a_key_without_a_name_gets_a_default_name(user_client):
    response = user_client.post(KEYS, {}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "Default API Key"


def test_it_refuses_a_name_over_100_characters(user_client):
    assert_error(create(user_client, "n" * 101), 400, "VALIDATION_ERROR")
    assert not ApiKey.objects.exists()


def test_it_accepts_a_name_of_100_characters(user_client):
    assert create(user_client, "n" * 100).status_code == 201


def test_the_list_never_shows_the_key(user_client):
    created = create(user_client).json()

    response = user_client.get(KEYS)

    assert response.status_code == 200
    listed = response.json()["apiKeys"]
    assert len(listed) == 1
    assert set(listed[0]) == LISTED_FIELDS
    assert listed[0]["id"] == created["id"]
    assert listed[0]["name"] == "my-script"
    assert listed[0]["prefix"] == created["prefix"]
    assert created["key"] not in response.content.decode()
    assert created["key"][3:] not in response.content.decode()


def test_a_user_lists_only_their_own_keys(user_client, other_user, api_key_for):
    api_key_for(other_user)
    mine = create(user_client).json()["id"]

    listed = user_client.get(KEYS).json()["apiKeys"]

    assert [k["id"] for k in listed] == [mine]


def test_using_a_key_sets_last_used_at(user_client, client_for):
    raw = create(user_client).json()["key"]
    before = timezone.now()

    assert client_for(raw).get(SESSION).status_code == 200

    listed = user_client.get(KEYS).json()["apiKeys"][0]
    assert listed["lastUsedAt"] is not None
    assert datetime.fromisoformat(listed["lastUsedAt"]) >= before


def test_last_used_at_is_refreshed_after_a_minute(user, api_key_for, client_for):
    client = client_for(api_key_for(user))
    stale = timezone.now() - timedelta(minutes=5)
    ApiKey.objects.update(last_used_at=stale)

    client.get(SESSION)

    assert ApiKey.objects.get().last_used_at > stale


def test_a_user_key_acts_as_a_user(user, api_key_for, client_for):
    client = client_for(api_key_for(user))

    body = client.get(SESSION).json()
    assert body["user"]["username"] == "alice"
    assert body["authMethod"] == "apiKey"
    assert_error(client.get(USERS), 403, "FORBIDDEN")


def test_an_admin_key_acts_as_an_admin(admin_user, api_key_for, client_for):
    client = client_for(api_key_for(admin_user))

    assert client.get(USERS).status_code == 200


def test_a_key_stops_working_when_its_owner_is_deactivated(user, api_key_for, client_for):
    client = client_for(api_key_for(user))
    user.is_active = False
    user.save()

    assert_error(client.get(SESSION), 401, "AUTH_INVALID")


def test_an_owner_deletes_their_key_and_it_stops_working(user_client, client_for):
    created = create(user_client).json()
    key_client = client_for(created["key"])
    assert key_client.get(SESSION).status_code == 200

    response = user_client.delete(f"{KEYS}/{created['id']}")

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert not ApiKey.objects.filter(pk=created["id"]).exists()
    assert_error(key_client.get(SESSION), 401, "AUTH_INVALID")


def test_a_key_can_delete_itself(user, api_key_for, client_for):
    raw = api_key_for(user)
    key_client = client_for(raw)
    key_id = ApiKey.objects.get(key_hash=sha256_hex(raw)).id

    assert key_client.delete(f"{KEYS}/{key_id}").status_code == 200
    assert_error(key_client.get(SESSION), 401, "AUTH_INVALID")


def test_it_rejects_another_users_key(user_client, other_user, api_key_for, client_for):
    raw = api_key_for(other_user)
    key = ApiKey.objects.get(key_hash=sha256_hex(raw))

    assert_error(user_client.delete(f"{KEYS}/{key.id}"), 404, "NOT_FOUND")

    assert ApiKey.objects.filter(pk=key.pk).exists()
    assert client_for(raw).get(SESSION).status_code == 200


def test_deleting_an_unknown_key_is_404(user_client):
    assert_error(user_client.delete(f"{KEYS}/{uuid.uuid4()}"), 404, "NOT_FOUND")


def test_a_non_uuid_key_id_is_a_json_404(user_client):
    assert_error(user_client.delete(f"{KEYS}/123"), 404, "NOT_FOUND")


def test_an_admin_lists_every_users_keys_with_their_owner(
    admin_client, user, other_user, api_key_for
):
    api_key_for(user)
    api_key_for(other_user)

    listed = admin_client.get(KEYS).json()["apiKeys"]

    owners = sorted(k["owner"]["username"] for k in listed)
    assert owners == ["alice", "bob"]
    assert all(set(k) == LISTED_FIELDS | {"owner"} for k in listed)
    assert {k["owner"]["id"] for k in listed} == {str(user.id), str(other_user.id)}


def test_an_admin_deletes_another_users_key(admin_client, user, api_key_for, client_for):
    raw = api_key_for(user)
    key = ApiKey.objects.get(key_hash=sha256_hex(raw))

    assert admin_client.delete(f"{KEYS}/{key.id}").status_code == 200

    assert not ApiKey.objects.filter(pk=key.pk).exists()
    assert_error(client_for(raw).get(SESSION), 401, "AUTH_INVALID")


@pytest.mark.parametrize(
    "bad",
    ["si_", "si_nothex", "si_" + "0" * 96, "si_" + "a" * 95, "si_" + "A" * 96],
    ids=["empty", "not-hex", "unknown", "short", "uppercase"],
)
def test_a_malformed_or_unknown_key_is_401(client_for, user, api_key_for, bad):
    api_key_for(user)

    assert_error(client_for(bad).get(SESSION), 401, "AUTH_INVALID")


def test_a_valid_key_with_one_character_changed_is_401(user, api_key_for, client_for):
    raw = api_key_for(user)
    tampered = raw[:-1] + ("0" if raw[-1] != "0" else "1")

    assert_error(client_for(tampered).get(SESSION), 401, "AUTH_INVALID")


def test_a_key_is_not_accepted_in_another_auth_scheme(user, api_key_for, anon):
    raw = api_key_for(user)
    anon.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

    assert_error(anon.get(SESSION), 401, "AUTH_REQUIRED")


def test_key_management_needs_authentication(anon, user, api_key_for):
    api_key_for(user)
    key_id = ApiKey.objects.get().id

    assert_error(anon.get(KEYS), 401, "AUTH_REQUIRED")
    assert_error(create(anon), 401, "AUTH_REQUIRED")
    assert_error(anon.delete(f"{KEYS}/{key_id}"), 401, "AUTH_REQUIRED")
    assert ApiKey.objects.filter(pk=key_id).exists()


def test_a_key_can_create_another_key_for_its_owner(user, api_key_for, client_for):
    response = create(client_for(api_key_for(user)))

    assert response.status_code == 201
    assert ApiKey.objects.get(pk=response.json()["id"]).user == user
