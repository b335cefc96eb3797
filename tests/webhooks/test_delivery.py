"""Deliveries over real HTTP to a local receiver: signed job and file events, retries with
backoff, the send-time address check, redirects, timeouts, and the delivery log."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.jobs.maintenance import recover_lost_jobs
from apps.jobs.models import Job
from apps.webhooks.delivery import send_due
from apps.webhooks.dispatch import dispatch
from apps.webhooks.models import LOG_SIZE, Delivery, Webhook
from tests.conftest import FIXTURES
from tests.webhooks.receiver import Receiver, receiving, verify

pytestmark = pytest.mark.django_db


def hook_for(client: APIClient, receiver: Receiver, **fields) -> dict:
    response = client.post("/api/v1/webhooks", {"url": receiver.url, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def resize(client: APIClient, width: int = 32):
    with open(FIXTURES / "photo.jpg", "rb") as photo:
        body = {"file": photo, "settings": json.dumps({"width": width})}
        response = client.post("/api/v1/tools/resize", body, format="multipart")
    assert response.status_code == 200, response.content[:300]
    return response


def upload(client: APIClient) -> str:
    with open(FIXTURES / "photo.jpg", "rb") as photo:
        response = client.post("/api/v1/upload", {"files": photo}, format="multipart")
    assert response.status_code == 201, response.content[:300]
    return response.json()["files"][0]["id"]


def due_now(delivery: Delivery) -> None:
    """Time passes: the delivery's retry is due."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_finished_resize_job_is_signed_and_delivered(private_ok, settings, user_client, user):
    settings.PUBLIC_URL = "https://pixelsmith.example.org"
    with receiving() as receiver:
        hook = hook_for(user_client, receiver, events=["job.completed"])
        job_id = resize(user_client)["X-Job-Id"]

    [sent] = receiver.requests
    assert verify(hook["secret"], sent.headers["X-Pixelsmith-Signature"], sent.body)
    assert not verify("whsec_" + "0" * 64, sent.headers["X-Pixelsmith-Signature"], sent.body)
    assert sent.path == "/hook"
    assert sent.headers["X-Pixelsmith-Event"] == "job.completed"
    assert sent.headers["User-Agent"] == f"Pixelsmith-Webhooks/{settings.VERSION}"
    assert sent.headers["Content-Type"] == "application/json"
    payload = sent.json
    assert sent.headers["X-Pixelsmith-Delivery"] == payload["id"]
    assert payload["event"] == "job.completed" and payload["createdAt"]
    data = payload["data"]
    assert (data["jobId"], data["toolId"], data["status"]) == (job_id, "resize", "completed")
    assert data["statusUrl"] == f"https://pixelsmith.example.org/api/v1/jobs/{job_id}"
    assert data["downloadUrl"] == f"https://pixelsmith.example.org/api/v1/jobs/{job_id}/download"
    assert data["owner"] == {"id": str(user.pk), "username": user.username}
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    assert delivery.latency_ms is not None and delivery.next_attempt_at is None


def test_the_signature_covers_the_exact_body(private_ok, user_client):
    with receiving() as receiver:
        hook = hook_for(user_client, receiver)
        upload(user_client)

    sent = receiver.requests[0]
    tampered = sent.body.replace(b'"file.created"', b'"file.deleted"')
    assert verify(hook["secret"], sent.headers["X-Pixelsmith-Signature"], sent.body)
    assert not verify(hook["secret"], sent.headers["X-Pixelsmith-Signature"], tampered)
    old = sent.headers["X-Pixelsmith-Signature"]
    assert not verify(hook["secret"], old, sent.body, tolerance_s=-1)  # the timestamp counts


def test_links_are_paths_without_a_public_url(private_ok, user_client):
    with receiving() as receiver:
        hook_for(user_client, receiver, events=["job.completed"])
        job_id = resize(user_client)["X-Job-Id"]

    assert receiver.requests[0].json["data"]["statusUrl"] == f"/api/v1/jobs/{job_id}"


def test_a_failed_job_is_delivered_with_its_error(private_ok, user_client):
    with receiving() as receiver:
        hook_for(user_client, receiver, events=["job.failed"])
        with open(FIXTURES / "photo.jpg", "rb") as photo:
            body = {"file": photo, "settings": json.dumps({"left": 5000, "width": 10})}
            response = user_client.post("/api/v1/tools/crop", body, format="multipart")

    assert response.status_code >= 400
    data = receiver.requests[0].json["data"]
    assert receiver.requests[0].headers["X-Pixelsmith-Event"] == "job.failed"
    assert data["status"] == "failed" and data["toolId"] == "crop"
    assert data["error"]["code"] == response.json()["code"] and data["error"]["message"]
    assert "downloadUrl" not in data


def test_a_job_failed_by_the_upkeep_is_delivered(private_ok, settings, user_client, user):
    long_ago = timezone.now() - timedelta(hours=1)
    job = Job.objects.create(
        owner=user,
        tool_id="resize",
        status=Job.Status.PROCESSING,
        attempts=settings.JOB_MAX_ATTEMPTS,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    with receiving() as receiver:
        hook_for(user_client, receiver, events=["job.failed"])
        recover_lost_jobs()

    data = receiver.requests[0].json["data"]
    assert data["jobId"] == str(job.pk) and data["error"]["code"] in ("WORKER_LOST", "JOB_TIMEOUT")


def test_unsubscribed_events_are_not_sent(private_ok, user_client):
    with receiving() as receiver:
        hook_for(user_client, receiver, events=["job.failed"])
        resize(user_client)
        upload(user_client)

    assert receiver.requests == [] and not Delivery.objects.exists()


def test_file_created_on_upload_and_file_deleted_on_delete(private_ok, user_client):
    with receiving() as receiver:
        hook_for(user_client, receiver, events=["file.created", "file.deleted"])
        file_id = upload(user_client)
        assert user_client.delete(f"/api/v1/files/{file_id}").status_code == 200

    created, deleted = (r.json for r in receiver.requests)
    assert (created["event"], deleted["event"]) == ("file.created", "file.deleted")
    assert created["data"]["fileId"] == deleted["data"]["fileId"] == file_id
    assert created["data"]["name"] == "photo.jpg" and created["data"]["version"] == 1
    assert created["data"]["downloadUrl"] == f"/api/v1/files/{file_id}/download"
    assert "downloadUrl" not in deleted["data"]  # nothing left to download


def test_a_failed_delivery_is_retried_with_backoff(private_ok, user_client):
    with receiving([500, 200]) as receiver:
        hook = hook_for(user_client, receiver, events=["file.created"])
        upload(user_client)
        first = Delivery.objects.get()
        assert first.next_attempt_at is not None
        wait = (first.next_attempt_at - timezone.now()).total_seconds()
        assert (first.status, first.attempts, first.response_status) == ("failed", 1, 500)
        assert 20 < wait <= 30  # the first backoff
        assert send_due() == 0 and len(receiver.requests) == 1  # not due yet

        due_now(first)
        assert send_due() == 1

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 2, 200)
    assert delivery.next_attempt_at is None
    one, two = receiver.requests
    assert one.body == two.body and one.headers["X-Pixelsmith-Delivery"] == str(delivery.pk)
    assert verify(hook["secret"], two.headers["X-Pixelsmith-Signature"], two.body)
    log = user_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    [entry] = log
    assert [a["responseStatus"] for a in entry["history"]] == [500, 200]
    assert [a["status"] for a in entry["history"]] == ["failed", "succeeded"]
    assert entry["history"][0]["error"].startswith("HTTP 500")
    assert (entry["status"], entry["attempts"]) == ("succeeded", 2)


def test_a_delivery_gives_up_after_the_last_attempt(private_ok, settings, user_client):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    with receiving([503]) as receiver:
        hook_for(user_client, receiver, events=["file.created"])
        upload(user_client)
        waits = []
        for _ in range(3):
            delivery = Delivery.objects.get()
            if delivery.next_attempt_at is not None:
                waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds()))
                due_now(delivery)
                send_due()
        assert send_due() == 0

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert len(receiver.requests) == 3 and len(delivery.history) == 3
    assert 25 <= waits[0] <= 30 and 110 <= waits[1] <= 120  # 30 s, then 2 min


def test_a_redirect_is_not_followed(private_ok, user_client):
    with receiving() as elsewhere, receiving([("redirect", elsewhere.url)]) as receiver:
        hook_for(user_client, receiver, events=["file.created"])
        upload(user_client)

    delivery = Delivery.objects.get()
    assert len(receiver.requests) == 1 and elsewhere.requests == []
    assert (delivery.status, delivery.response_status) == ("failed", 302)
    assert "redirects are not followed" in delivery.error


def test_a_slow_receiver_times_out(private_ok, settings, user_client):
    settings.WEBHOOK_TIMEOUT_S = 0.5
    with receiving([("slow", 3)]) as receiver:
        hook_for(user_client, receiver, events=["file.created"])
        started = time.monotonic()
        upload(user_client)
        elapsed = time.monotonic() - started

    delivery = Delivery.objects.get()
    assert elapsed < 2.5  # the receiver would have taken 3 s
    assert (delivery.status, delivery.response_status) == ("failed", None)
    assert delivery.error == "Timed out after 0.5 s"
    assert delivery.next_attempt_at is not None  # retried later
    assert len(receiver.requests) == 1


def test_a_closed_port_fails_the_delivery(private_ok, user_client, make_webhook, user):
    with receiving() as receiver:
        url = receiver.url
    make_webhook(user, url)  # the receiver has gone: nothing listens there any more

    upload(user_client)

    delivery = Delivery.objects.get()
    assert delivery.status == "failed" and delivery.error == "Connection refused"


def test_a_name_that_now_resolves_to_a_private_address_gets_nothing(
    settings, names, user_client, user
):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    names["hooks.example.com"] = ["1.1.1.1"]
    with receiving(host="hooks.example.com") as receiver:
        hook_for(user_client, receiver, events=["file.created"])  # public when saved
        names["hooks.example.com"] = ["127.0.0.1"]  # then the name points at us
        upload(user_client)

    delivery = Delivery.objects.get()
    assert receiver.requests == []
    assert delivery.status == "failed" and delivery.error.startswith("WEBHOOK_URL_PRIVATE")
    assert delivery.response_status is None


def test_the_checked_address_is_the_one_connected_to(private_ok, names, user_client):
    names["rebind.example.com"] = ["127.0.0.1"]
    with receiving(host="rebind.example.com") as receiver:
        hook_for(user_client, receiver, events=["file.created"])
        names.calls.clear()
        upload(user_client)

    [sent] = receiver.requests
    assert names.calls == {"rebind.example.com": 1}  # resolved once, for the check
    assert sent.headers["Host"] == f"rebind.example.com:{receiver.port}"


def test_deleting_a_webhook_stops_its_retries(private_ok, user_client):
    with receiving([500, 200]) as receiver:
        hook = hook_for(user_client, receiver, events=["file.created"])
        upload(user_client)
        due_now(Delivery.objects.get())
        user_client.delete(f"/api/v1/webhooks/{hook['id']}")

        assert send_due() == 0

    assert len(receiver.requests) == 1 and not Delivery.objects.exists()


def test_a_deactivated_webhook_gets_nothing_and_gives_up_its_retries(private_ok, user_client):
    with receiving([500]) as receiver:
        hook = hook_for(user_client, receiver, events=["file.created"])
        upload(user_client)
        patch = {"active": False}
        user_client.patch(f"/api/v1/webhooks/{hook['id']}", patch, format="json")
        upload(user_client)

        assert send_due() == 0

    delivery = Delivery.objects.get()
    assert len(receiver.requests) == 1
    assert delivery.next_attempt_at is None and delivery.error == "The webhook was deactivated"


def test_the_log_keeps_the_last_deliveries(private_refused, make_webhook, user):
    webhook = make_webhook(user, "http://127.0.0.1:9/hook")  # refused at once: nothing sent
    for number in range(LOG_SIZE + 5):
        dispatch("file.created", user.pk, partial(dict, n=number))

    kept = Delivery.objects.filter(webhook=webhook).order_by("created_at")
    assert kept.count() == LOG_SIZE
    assert [d.payload["data"]["n"] for d in kept] == list(range(5, LOG_SIZE + 5))


def test_the_log_answers_the_last_deliveries_newest_first(private_ok, user_client):
    with receiving() as receiver:
        hook = hook_for(user_client, receiver, events=["file.created", "file.deleted"])
        file_id = upload(user_client)
        user_client.delete(f"/api/v1/files/{file_id}")

    log = user_client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    assert [d["event"] for d in log] == ["file.deleted", "file.created"]
    assert all(d["status"] == "succeeded" and d["latencyMs"] is not None for d in log)
    assert log[1]["payload"]["data"]["fileId"] == file_id


def test_a_test_delivery_answers_its_outcome(private_ok, user_client):
    with receiving([200, 500]) as receiver:
        hook = hook_for(user_client, receiver)
        ok = user_client.post(f"/api/v1/webhooks/{hook['id']}/test")
        failed = user_client.post(f"/api/v1/webhooks/{hook['id']}/test")

    assert ok.status_code == 200 and failed.status_code == 200
    assert (ok.json()["status"], ok.json()["responseStatus"]) == ("succeeded", 200)
    assert (failed.json()["status"], failed.json()["responseStatus"]) == ("failed", 500)
    assert failed.json()["nextAttemptAt"] is None  # a test is tried once
    sent = receiver.requests[0]
    assert sent.headers["X-Pixelsmith-Event"] == "webhook.test"
    assert sent.json["data"]["webhookId"] == hook["id"]
    assert verify(hook["secret"], sent.headers["X-Pixelsmith-Signature"], sent.body)


def test_a_test_delivery_to_a_refused_target_sends_nothing(private_refused, user_client, user):
    webhook = Webhook.objects.create(owner=user, url="http://169.254.169.254/x", secret="s")

    response = user_client.post(f"/api/v1/webhooks/{webhook.pk}/test")

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["error"].startswith("WEBHOOK_URL_PRIVATE")
