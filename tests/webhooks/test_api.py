"""/api/v1/webhooks: creating (URL checked after DNS resolution), reading, changing and
deleting webhooks; scope, limits and another user's webhook."""

from __future__ import annotations

import re

import pytest

from apps.webhooks.models import EVENTS, Webhook
from tests.api.support import assert_error

pytestmark = pytest.mark.django_db

PUBLIC = "https://1.1.1.1/hooks/pixelsmith"  # an IP literal: no DNS needed in the tests


def create(client, url: str = PUBLIC, **fields):
    return client.post("/api/v1/webhooks", {"url": url, **fields}, format="json")


def test_a_new_webhook_shows_its_secret_once_in_lists(user_client):
    response = create(user_client, description="CI")

    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"whsec_[0-9a-f]{64}", body["secret"])  # 32 random bytes
    assert body["events"] == list(EVENTS) and body["scope"] == "own" and body["active"]
    assert body["secretPrefix"] == body["secret"][:10]
    listed = user_client.get("/api/v1/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert "secret" not in listed[0]
    detail = user_client.get(f"/api/v1/webhooks/{body['id']}").json()
    assert detail["secret"] == body["secret"]  # retrievable by its owner


def test_two_webhooks_get_different_secrets(user_client):
    assert create(user_client).json()["secret"] != create(user_client).json()["secret"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://1.1.1.1/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://",
        "1.1.1.1/hook",
        "https://user:pass@1.1.1.1/hook",
        "https://token@1.1.1.1/hook",
        "https://1.1.1.1/a b",
        "https://1.1.1.1:99999/hook",
        "https://1.1.1.1/" + "a" * 2000,
    ],
)
def test_a_url_that_is_not_plain_http_is_refused(user_client, url):
    assert_error(create(user_client, url), 400, "WEBHOOK_URL_INVALID")
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0:8000/",
        "http://[::1]:8000/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://localhost:8000/hook",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(private_refused, user_client, url):
    assert_error(create(user_client, url), 400, "WEBHOOK_URL_PRIVATE")
    assert not Webhook.objects.exists()


def test_a_name_resolving_to_a_private_address_is_refused(private_refused, names, user_client):
    names["hooks.example.com"] = ["10.0.0.7"]

    assert_error(create(user_client, "https://hooks.example.com/x"), 400, "WEBHOOK_URL_PRIVATE")
    assert names.calls["hooks.example.com"] == 1


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    private_refused, names, user_client
):
    names["mixed.example.com"] = ["1.1.1.1", "10.0.0.7"]

    assert_error(create(user_client, "https://mixed.example.com/"), 400, "WEBHOOK_URL_PRIVATE")


def test_a_name_resolving_to_public_addresses_is_accepted(private_refused, names, user_client):
    names["hooks.example.com"] = ["1.1.1.1"]

    assert create(user_client, "https://hooks.example.com/x").status_code == 201


def test_a_name_that_does_not_resolve_is_refused(names, user_client):
    names["gone.example.com"] = []

    response = create(user_client, "https://gone.example.com/")

    assert_error(response, 400, "WEBHOOK_URL_UNRESOLVABLE")


def test_private_targets_are_allowed_when_the_setting_says_so(private_ok, user_client):
    assert create(user_client, "http://127.0.0.1:9000/hook").status_code == 201


@pytest.mark.parametrize(
    ("events", "code"),
    [(["job.completed", "job.exploded"], 400), ([], 400), ("job.completed", 400)],
)
def test_unknown_or_no_events_are_refused(user_client, events, code):
    response = create(user_client, events=events)

    assert response.status_code == code
    assert response.json()["code"] in ("WEBHOOK_EVENTS_INVALID", "VALIDATION_ERROR")
    assert not Webhook.objects.exists()


def test_events_are_kept_in_the_documented_order_once(user_client):
    events = ["file.deleted", "job.completed", "file.deleted"]

    assert create(user_client, events=events).json()["events"] == ["job.completed", "file.deleted"]


def test_only_admins_may_watch_every_users_events(user_client, admin_client):
    assert_error(create(user_client, scope="all"), 403, "WEBHOOK_SCOPE_FORBIDDEN")
    hook = create(user_client).json()
    patched = user_client.patch(f"/api/v1/webhooks/{hook['id']}", {"scope": "all"}, format="json")
    assert_error(patched, 403, "WEBHOOK_SCOPE_FORBIDDEN")
    assert Webhook.objects.get().scope == "own"

    assert create(admin_client, scope="all").status_code == 201


def test_an_admin_cannot_give_a_users_webhook_scope_all(user_client, admin_client):
    hook = create(user_client).json()

    response = admin_client.patch(f"/api/v1/webhooks/{hook['id']}", {"scope": "all"}, format="json")

    assert_error(response, 403, "WEBHOOK_SCOPE_FORBIDDEN")


def test_a_user_has_a_limited_number_of_webhooks(settings, user_client, admin_client):
    settings.WEBHOOK_MAX_PER_USER = 2
    create(user_client)
    create(user_client)

    assert_error(create(user_client), 409, "WEBHOOK_LIMIT")
    assert Webhook.objects.count() == 2
    assert create(admin_client).status_code == 201  # per user


def test_another_users_webhook_is_not_found(user, other_user, client_for, session_token):
    bobs = create(client_for(session_token(other_user))).json()["id"]
    alice = client_for(session_token(user))
    base = f"/api/v1/webhooks/{bobs}"

    assert_error(alice.get(base), 404, "NOT_FOUND")
    assert_error(alice.put(base, {"url": PUBLIC}, format="json"), 404, "NOT_FOUND")
    assert_error(alice.patch(base, {"active": False}, format="json"), 404, "NOT_FOUND")
    assert_error(alice.post(f"{base}/test"), 404, "NOT_FOUND")
    assert_error(alice.get(f"{base}/deliveries"), 404, "NOT_FOUND")
    assert_error(alice.delete(base), 404, "NOT_FOUND")
    assert alice.get("/api/v1/webhooks").json()["webhooks"] == []
    assert Webhook.objects.get(pk=bobs).active


def test_admins_see_everyones_webhooks_but_not_their_secrets(user_client, admin_client, user):
    hook = create(user_client).json()

    listed = admin_client.get("/api/v1/webhooks").json()["webhooks"]
    detail = admin_client.get(f"/api/v1/webhooks/{hook['id']}").json()

    assert [w["owner"]["username"] for w in listed] == [user.username]
    assert "secret" not in detail and detail["secretPrefix"] == hook["secretPrefix"]


def test_patch_changes_only_what_it_names(user_client):
    hook = create(user_client, events=["job.failed"], description="ops").json()

    response = user_client.patch(f"/api/v1/webhooks/{hook['id']}", {"active": False}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert (body["active"], body["events"], body["description"]) == (False, ["job.failed"], "ops")
    assert "secret" not in body  # not rotated, not shown again


def test_put_replaces_the_webhook(user_client):
    hook = create(user_client, events=["job.failed"], description="ops").json()

    response = user_client.put(
        f"/api/v1/webhooks/{hook['id']}", {"url": "https://1.0.0.1/new"}, format="json"
    )

    body = response.json()
    assert (body["url"], body["events"], body["description"]) == (
        "https://1.0.0.1/new",
        list(EVENTS),
        "",
    )


def test_a_changed_url_is_checked_again(private_refused, user_client):
    hook = create(user_client).json()

    response = user_client.patch(
        f"/api/v1/webhooks/{hook['id']}", {"url": "http://169.254.169.254/"}, format="json"
    )

    assert_error(response, 400, "WEBHOOK_URL_PRIVATE")
    assert Webhook.objects.get().url == PUBLIC


def test_rotating_the_secret_shows_the_new_one(user_client):
    hook = create(user_client).json()

    response = user_client.patch(
        f"/api/v1/webhooks/{hook['id']}", {"rotateSecret": True}, format="json"
    )

    new = response.json()["secret"]
    assert new != hook["secret"] and Webhook.objects.get().secret == new


def test_deleting_a_webhook(user_client):
    hook = create(user_client).json()

    assert user_client.delete(f"/api/v1/webhooks/{hook['id']}").json() == {"ok": True}
    assert_error(user_client.get(f"/api/v1/webhooks/{hook['id']}"), 404, "NOT_FOUND")


def test_anonymous_callers_have_no_webhooks(anon):
    assert_error(anon.get("/api/v1/webhooks"), 401, "AUTH_REQUIRED")
    assert_error(create(anon), 401, "AUTH_REQUIRED")
