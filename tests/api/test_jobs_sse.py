"""GET /api/v1/jobs/<id>/progress (SSE) through the test client; tests/live reads a real stream.

The view is async; these tests read its async body with async_to_sync, and drive the
event generator step by step to watch a job change under it.
"""

import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apps.accounts.models import AuthSession
from apps.jobs import sse
from apps.jobs.models import Job
from tests.api.jobs_support import make_job, post_tool, sse_events, sse_text
from tests.api.support import assert_error

pytestmark = pytest.mark.django_db


def test_a_finished_job_replays_its_final_event_at_once_and_the_stream_ends(user_client):
    job_id = post_tool(user_client, "resize", {"width": 40})["X-Job-Id"]

    response = user_client.get(f"/api/v1/jobs/{job_id}/progress")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    text = sse_text(response)
    assert text.startswith("data: {") and text.endswith("\n\n") and text.count("data: ") == 1
    event = json.loads(text.removeprefix("data: "))
    assert event["progress"] == 100 and event["status"] == "completed"
    assert event["jobId"] == job_id and event["message"] == "done"
    assert "error" not in event


def test_a_failed_jobs_event_carries_its_error(user_client, user):
    job = make_job(
        user, status=Job.Status.FAILED, error_code="JOB_TIMEOUT", error_message="Too slow"
    )

    events = sse_events(user_client.get(f"/api/v1/jobs/{job.pk}/progress"))

    assert len(events) == 1
    assert events[0]["status"] == "failed"
    assert events[0]["error"] == {"code": "JOB_TIMEOUT", "message": "Too slow"}


def test_a_cancelled_jobs_stream_ends_at_once(user_client, user):
    job = make_job(user, status=Job.Status.CANCELLED, message="cancelled")

    events = sse_events(user_client.get(f"/api/v1/jobs/{job.pk}/progress"))

    assert [e["status"] for e in events] == ["cancelled"]


def event(chunk: str) -> dict:
    assert chunk.startswith("data: ") and chunk.endswith("\n\n"), chunk
    return json.loads(chunk.removeprefix("data: "))


def test_the_stream_follows_a_running_job_and_ends_when_it_does(user, monkeypatch):
    monkeypatch.setattr(sse, "POLL_S", 0)
    monkeypatch.setattr(sse, "KEEPALIVE_S", 3600)
    job = make_job(user, status=Job.Status.QUEUED)
    rows = Job.objects.filter(pk=job.pk)

    async def watch() -> list[str]:
        # One event loop for the whole stream, as under uvicorn; the row changes between reads.
        stream = sse.events(job.pk)
        chunks = [await anext(stream)]
        await rows.aupdate(status="processing", percent=40, message="2/5 files")
        chunks.append(await anext(stream))
        await rows.aupdate(percent=40.5, items_done=3)  # any change is an event
        chunks.append(await anext(stream))
        await rows.aupdate(status="completed", percent=100, message="done")
        chunks += [chunk async for chunk in stream]  # the last event, then the end
        return chunks

    events = [event(chunk) for chunk in async_to_sync(watch)()]

    assert [(e["status"], e["progress"]) for e in events] == [
        ("queued", 0),
        ("processing", 40),
        ("processing", 40.5),
        ("completed", 100),
    ]
    assert events[1]["message"] == "2/5 files" and events[2]["items"]["done"] == 3


def test_a_quiet_stream_sends_keep_alive_comments(user, monkeypatch):
    monkeypatch.setattr(sse, "POLL_S", 0)
    monkeypatch.setattr(sse, "KEEPALIVE_S", 0)
    job = make_job(user, status=Job.Status.PROCESSING, percent=10)

    async def watch() -> list[str]:
        stream = sse.events(job.pk)
        chunks = [await anext(stream), await anext(stream)]
        await stream.aclose()
        return chunks

    first, second = async_to_sync(watch)()

    assert event(first)["progress"] == 10
    assert second == ": keep-alive\n\n"  # nothing changed: a comment, not an event


def test_progress_needs_a_signed_in_caller(anon, user):
    job = make_job(user)

    response = anon.get(f"/api/v1/jobs/{job.pk}/progress")

    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_REQUIRED"


def test_progress_refuses_an_invalid_token(client_for, user):
    job = make_job(user)

    response = client_for("not-a-session").get(f"/api/v1/jobs/{job.pk}/progress")

    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_INVALID"


def test_progress_of_another_users_job_is_404(user_client, other_user):
    job = make_job(other_user, status=Job.Status.COMPLETED)

    response = user_client.get(f"/api/v1/jobs/{job.pk}/progress")

    assert response.status_code == 404
    assert response.json() == {"error": "Job not found", "code": "NOT_FOUND"}


def test_progress_works_with_an_api_key(client_for, api_key_for, user):
    job = make_job(user, status=Job.Status.COMPLETED, percent=100)

    response = client_for(api_key_for(user)).get(f"/api/v1/jobs/{job.pk}/progress")

    assert response.status_code == 200
    assert sse_events(response)[0]["status"] == "completed"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_progress_answers_other_methods_with_a_json_405(user_client, user, method):
    job = make_job(user)

    response = getattr(user_client, method)(f"/api/v1/jobs/{job.pk}/progress")

    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert set(response.json()) == {"error", "code"}


def test_opening_streams_counts_against_the_rate_limit(user_client, user, settings):
    settings.RATE_LIMIT_PER_MIN = 2
    job = make_job(user, status=Job.Status.COMPLETED, percent=100)
    url = f"/api/v1/jobs/{job.pk}/progress"

    first, second = user_client.get(url), user_client.get(url)
    third = user_client.get(url)

    assert first.status_code == second.status_code == 200
    body = assert_error(third, 429, "RATE_LIMITED", extra=["retryAfter"])
    assert third["Retry-After"] == str(body["retryAfter"])


def test_a_stream_ends_once_its_session_is_revoked(user, session_token, monkeypatch, rf):
    """Logout (or a password change) ends the session: the open stream notices within
    RECHECK_S and ends with an error event instead of streaming on."""
    monkeypatch.setattr(sse, "POLL_S", 0)
    monkeypatch.setattr(sse, "KEEPALIVE_S", 3600)
    monkeypatch.setattr(sse, "RECHECK_S", 0)
    token = session_token(user)
    request = rf.get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    job = make_job(user, status=Job.Status.PROCESSING, percent=10)

    async def signed_in() -> bool:
        return await sync_to_async(sse.still_signed_in)(request)

    async def watch() -> list[str]:
        stream = sse.events(job.pk, signed_in)
        chunks = [await anext(stream)]
        await AuthSession.objects.all().adelete()  # what logout does to this session
        chunks += [chunk async for chunk in stream]
        return chunks

    chunks = async_to_sync(watch)()

    assert event(chunks[0])["progress"] == 10
    assert chunks[-1].startswith("event: error\ndata: ")
    assert json.loads(chunks[-1].split("data: ", 1)[1])["code"] == "AUTH_REVOKED"


def test_a_user_who_must_change_the_password_first_gets_a_403(client_for, session_token, user):
    user.must_change_password = True
    user.save()
    job = make_job(user, status=Job.Status.COMPLETED)

    response = client_for(session_token(user)).get(f"/api/v1/jobs/{job.pk}/progress")

    assert_error(response, 403, "PASSWORD_CHANGE_REQUIRED")


# --- signed progress links -----------------------------------------------------------------


def test_a_signed_progress_url_streams_without_any_credential(user_client, anon):
    job_id = post_tool(user_client, "resize", {"width": 40})["X-Job-Id"]
    link = user_client.get(f"/api/v1/jobs/{job_id}").json()["signedProgressUrl"]
    assert link.startswith(f"/api/v1/jobs/{job_id}/progress?sig=")

    response = anon.get(link)

    assert response.status_code == 200
    assert sse_events(response)[-1]["status"] == "completed"


def test_a_signed_link_opens_only_its_own_job(user_client, user, anon):
    mine = post_tool(user_client, "resize", {"width": 40})["X-Job-Id"]
    other = make_job(user, status=Job.Status.COMPLETED)
    sig = user_client.get(f"/api/v1/jobs/{mine}").json()["signedProgressUrl"].split("sig=")[1]

    for link in (
        f"/api/v1/jobs/{other.pk}/progress?sig={sig}",  # another job
        f"/api/v1/jobs/{mine}/progress?sig={sig[:-2]}xx",  # tampered
        f"/api/v1/jobs/{mine}/progress?sig=",
    ):
        assert_error(anon.get(link), 401, "LINK_INVALID")


def test_a_signed_link_expires_after_its_ttl(user_client, anon, settings, monkeypatch):
    import time as clock

    from apps.jobs import progress_links

    job_id = post_tool(user_client, "resize", {"width": 40})["X-Job-Id"]
    issued = clock.time() - settings.PROGRESS_LINK_TTL_S - 5  # issued past its lifetime
    monkeypatch.setattr("django.core.signing.time.time", lambda: issued)
    link = progress_links.signed_progress_url(job_id)
    monkeypatch.undo()

    assert_error(anon.get(link), 401, "LINK_INVALID")


def test_every_job_answer_carries_a_signed_progress_url(user_client):
    accepted = post_tool(user_client, "resize", {"width": 40}, HTTP_PREFER="respond-async")

    assert "signedProgressUrl" in accepted.json()
    listed = user_client.get("/api/v1/jobs").json()["jobs"][0]
    assert "sig=" in listed["signedProgressUrl"]
