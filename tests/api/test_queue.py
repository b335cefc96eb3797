"""GET /api/v1/queue/status and /api/v1/queue/history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.jobs.models import Job
from tests.api.jobs_support import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_workers(settings):
    settings.WORKER_CONCURRENCY = 2


def test_the_status_shows_the_line_and_only_the_callers_own_places_in_it(
    user_client, user, other_user, two_workers
):
    mine_first = make_job(user, tool_id="resize")
    make_job(other_user)
    mine_third = make_job(user, each_file=True)
    make_job(other_user, status=Job.Status.PROCESSING)
    make_job(user, status=Job.Status.COMPLETED, duration_s=10)
    make_job(other_user, status=Job.Status.COMPLETED, duration_s=30)
    make_job(user, status=Job.Status.FAILED, duration_s=999)  # failures are not durations

    response = user_client.get("/api/v1/queue/status")

    assert response.status_code == 200
    assert response.json() == {
        "queueLength": 3,
        "processing": 1,
        "workers": 2,
        "pending": [
            {"jobId": str(mine_first.pk), "position": 1, "toolId": "resize", "kind": "tool"},
            {"jobId": str(mine_third.pk), "position": 3, "toolId": "compress", "kind": "batch"},
        ],
        "averageDurationS": 20.0,
        # A job sent now is 4th: two start at once, the next two after one average job.
        "estimatedWaitS": 40.0,
    }


def test_an_admin_sees_every_pending_job(admin_client, user, other_user):
    jobs = [make_job(user), make_job(other_user)]

    pending = admin_client.get("/api/v1/queue/status").json()["pending"]

    assert [p["jobId"] for p in pending] == [str(j.pk) for j in jobs]
    assert [p["position"] for p in pending] == [1, 2]


def test_an_empty_queue_has_no_wait(user_client, user):
    make_job(user, status=Job.Status.COMPLETED, duration_s=4)

    data = user_client.get("/api/v1/queue/status").json()

    assert (data["queueLength"], data["processing"], data["pending"]) == (0, 0, [])
    assert data["estimatedWaitS"] == 0 and data["averageDurationS"] == 4.0


def test_without_history_the_wait_is_unknown(user_client, user):
    make_job(user)

    data = user_client.get("/api/v1/queue/status").json()

    assert data["queueLength"] == 1
    assert data["averageDurationS"] is None and data["estimatedWaitS"] is None


def test_the_history_lists_the_callers_recently_finished_jobs_with_durations(
    user_client, user, other_user
):
    now = timezone.now()
    older = make_job(
        user, status=Job.Status.COMPLETED, duration_s=3, finished_at=now - timedelta(minutes=5)
    )
    newer = make_job(
        user,
        status=Job.Status.FAILED,
        duration_s=1.5,
        finished_at=now - timedelta(minutes=1),
        error_code="CORRUPT_IMAGE",
    )
    cancelled = make_job(user, status=Job.Status.CANCELLED, finished_at=now)
    make_job(user)  # still queued
    make_job(user, status=Job.Status.PROCESSING, started_at=now)
    make_job(other_user, status=Job.Status.COMPLETED, duration_s=1)

    response = user_client.get("/api/v1/queue/history")

    assert response.status_code == 200
    jobs = response.json()["jobs"]
    assert [j["id"] for j in jobs] == [str(cancelled.pk), str(newer.pk), str(older.pk)]
    assert [j["durationS"] for j in jobs] == [None, 1.5, 3.0]  # never started: no duration
    assert jobs[1]["error"]["code"] == "CORRUPT_IMAGE"


def test_an_admins_history_has_everyones_jobs(admin_client, user, other_user):
    make_job(user, status=Job.Status.COMPLETED, duration_s=1)
    make_job(other_user, status=Job.Status.COMPLETED, duration_s=1)

    assert len(admin_client.get("/api/v1/queue/history").json()["jobs"]) == 2


def test_the_history_limit_is_bounded(user_client, user):
    for _ in range(4):
        make_job(user, status=Job.Status.COMPLETED, duration_s=1)

    assert len(user_client.get("/api/v1/queue/history?limit=3").json()["jobs"]) == 3
    assert len(user_client.get("/api/v1/queue/history").json()["jobs"]) == 4
    for bad in ("0", "201", "x"):
        response = user_client.get(f"/api/v1/queue/history?limit={bad}")
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("path", ["/api/v1/queue/status", "/api/v1/queue/history"])
def test_the_queue_needs_a_signed_in_caller(anon, path):
    response = anon.get(path)

    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_REQUIRED"
