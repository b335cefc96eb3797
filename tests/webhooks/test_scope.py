"""Who gets which events: a webhook of scope "own" only its owner's, an admin's scope
"all" webhook everyone's."""

from __future__ import annotations

import pytest

from apps.webhooks.models import Webhook
from tests.webhooks.receiver import receiving
from tests.webhooks.test_delivery import hook_for, resize, upload

pytestmark = pytest.mark.django_db


def test_an_own_webhook_never_gets_other_users_events(
    private_ok, user, other_user, client_for, session_token
):
    alice, bob = client_for(session_token(user)), client_for(session_token(other_user))
    with receiving() as alices, receiving() as bobs:
        hook_for(alice, alices)
        hook_for(bob, bobs)
        upload(bob)
        resize(bob)

    assert alices.requests == []
    assert [r.json["event"] for r in bobs.requests] == ["file.created", "job.completed"]


def test_an_admins_all_webhook_gets_every_users_events(
    private_ok, user_client, admin_client, other_user, client_for, session_token
):
    bob = client_for(session_token(other_user))
    with receiving() as everything, receiving() as admins_own:
        hook_for(admin_client, everything, scope="all", events=["file.created"])
        hook_for(admin_client, admins_own, events=["file.created"])
        alices_file, bobs_file = upload(user_client), upload(bob)

    got = [r.json["data"] for r in everything.requests]
    assert [d["fileId"] for d in got] == [alices_file, bobs_file]
    assert [d["owner"]["username"] for d in got] == ["alice", "bob"]
    assert admins_own.requests == []  # "own" means the admin's own files only


def test_an_all_webhook_of_a_demoted_admin_gets_only_its_owners_events(
    private_ok, admin_user, admin_client, user_client
):
    with receiving() as receiver:
        hook_for(admin_client, receiver, scope="all", events=["file.created"])
        admin_user.role = "user"
        admin_user.save()
        upload(user_client)
        own = upload(admin_client)

    assert [r.json["data"]["fileId"] for r in receiver.requests] == [own]
    assert Webhook.objects.get().scope == "all"  # kept, but honoured for admins only


def test_each_webhook_gets_an_event_once(private_ok, admin_client):
    with receiving() as receiver:
        hook_for(admin_client, receiver, scope="all", events=["file.created"])
        upload(admin_client)

    assert len(receiver.requests) == 1
