"""Tool calls as jobs: sync and async submission, the Job row, /api/v1/jobs list, detail, download.

django-q2 runs in sync mode here (tests/conftest.py): an enqueued job runs at once in the
test's thread. Queued states are made by creating Job rows directly or patching enqueue.
"""

import functools
import uuid

import pytest
import pyvips
from django.utils import timezone

from apps.jobs import execute, services, storage
from apps.jobs.models import Job
from tests.api.jobs_support import (
    PHOTO,
    body_of,
    make_job,
    photo,
    post_tool,
    settled_tree,
    sse_events,
    tree,
    with_input,
    with_result,
)
from tests.api.support import assert_error
from tests.badfiles import truncated_jpeg

pytestmark = pytest.mark.django_db

ASYNC_KEYS = {"jobId", "status", "statusUrl", "progressUrl", "signedProgressUrl", "downloadUrl"}


@pytest.fixture
def no_worker(monkeypatch):
    """Jobs are enqueued but no worker takes them: they stay queued."""
    sent: list[Job] = []
    monkeypatch.setattr(services, "enqueue", sent.append)
    return sent


# --- sync: the request waits and answers with the file --------------------------------


def test_a_sync_tool_call_returns_the_file_and_keeps_a_finished_job(user_client, user, settings):
    response = post_tool(user_client, "resize", {"width": 120})

    assert response.status_code == 200
    content = body_of(response)
    assert pyvips.Image.new_from_buffer(content, "").width == 120
    job = Job.objects.get(pk=uuid.UUID(response["X-Job-Id"]))
    assert (job.kind, job.tool_id, job.owner, job.status) == ("tool", "resize", user, "completed")
    assert job.percent == 100 and job.attempts == 1
    assert "libvips" in job.engine
    assert job.result_name == "photo_resize.jpg" and job.result_size == len(content)
    assert job.created_at <= job.started_at <= job.finished_at
    assert job.input_names == ["photo.jpg"] and job.input_size == len(PHOTO)
    # The input and scratch space go (just after the answer); the result stays.
    folder = settings.DATA_DIR / "jobs" / str(job.pk)
    assert settled_tree(folder, ["out/result.jpg"]) == ["out/result.jpg"]
    assert (folder / "out" / "result.jpg").stat().st_size == job.result_size


def test_a_finished_jobs_result_downloads_again_later(user_client):
    first = post_tool(user_client, "resize", {"width": 90})
    original = body_of(first)

    again = user_client.get(f"/api/v1/jobs/{first['X-Job-Id']}/download")

    assert again.status_code == 200
    assert body_of(again) == original  # the stored file itself, not a re-run
    assert again["Content-Type"] == "image/jpeg"
    assert 'filename="photo_resize.jpg"' in again["Content-Disposition"]
    assert again["X-Job-Id"] == first["X-Job-Id"]
    assert int(again["X-Processed-Size"]) == len(original)


def test_a_json_tools_result_downloads_as_json(user_client):
    first = post_tool(user_client, "info", {})

    again = user_client.get(f"/api/v1/jobs/{first['X-Job-Id']}/download")

    assert again.status_code == 200
    assert again.json() == first.json() and again.json()["format"] == "jpeg"


def test_a_queued_tool_in_sync_mode_waits_for_the_worker_and_returns_the_file(
    user_client, monkeypatch
):
    """convert is not inline: the view enqueues it and polls the row until a worker ends it."""
    sent: list[Job] = []
    monkeypatch.setattr(services, "enqueue", sent.append)  # no worker yet
    naps: list[float] = []

    def worker_finishes_during_the_wait(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:  # the worker takes the job while the request waits
            execute.run_job(str(sent[0].pk), 1)

    monkeypatch.setattr(services.time, "sleep", worker_finishes_during_the_wait)

    response = post_tool(user_client, "convert", {"format": "png"})

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    assert pyvips.Image.new_from_buffer(body_of(response), "").width > 0
    assert [str(job.pk) for job in sent] == [response["X-Job-Id"]]
    assert len(naps) == 3  # it waited, then answered as soon as the job ended


def test_a_queued_tools_failure_comes_back_with_its_code_and_job_id(user_client, settings):
    response = post_tool(
        user_client, "convert", {"format": "png"}, file=photo("cut.jpg", truncated_jpeg())
    )

    body = assert_error(response, 422, "CORRUPT_IMAGE")
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert job.status == "failed" and job.error_code == "CORRUPT_IMAGE"
    assert job.error_message == body["error"] and job.error_status == 422
    assert job.finished_at is not None and job.result_file == ""
    assert tree(settings.DATA_DIR / "jobs" / str(job.pk)) == []


def test_a_sync_call_that_outlasts_its_wait_answers_202_with_the_job(
    user_client, no_worker, monkeypatch
):
    monkeypatch.setattr(services, "wait_for", functools.partial(services.wait_for, timeout=0.05))

    response = post_tool(user_client, "convert", {"format": "png"})

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response["X-Job-Id"] == response.json()["jobId"] == str(no_worker[0].pk)


# --- async: 202 at once ---------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    [{"HTTP_PREFER": "respond-async"}, {"HTTP_PREFER": "wait=5, respond-async"}, {"async": "true"}],
    ids=["prefer-header", "prefer-with-others", "form-field"],
)
def test_an_async_request_gets_202_with_the_jobs_urls_then_the_result(user_client, how):
    response = post_tool(user_client, "resize", {"width": 70}, **how)

    assert response.status_code == 202
    body = response.json()
    assert set(body) == ASYNC_KEYS
    job_id = body["jobId"]
    assert body["status"] == "queued"
    assert body["statusUrl"] == f"/api/v1/jobs/{job_id}"
    assert body["progressUrl"] == f"/api/v1/jobs/{job_id}/progress"
    assert body["downloadUrl"] == f"/api/v1/jobs/{job_id}/download"
    assert response["X-Job-Id"] == job_id and response["Location"] == body["statusUrl"]
    # django-q2 ran it (sync mode): it is done, and its file downloads.
    status = user_client.get(body["statusUrl"]).json()
    assert status["status"] == "completed" and status["progress"] == 100
    download = user_client.get(body["downloadUrl"])
    assert pyvips.Image.new_from_buffer(body_of(download), "").width == 70


def test_an_async_request_is_queued_even_for_an_inline_tool(user_client, no_worker):
    response = post_tool(user_client, "resize", {"width": 70}, HTTP_PREFER="respond-async")

    assert response.status_code == 202
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert job.status == "queued" and no_worker == [job]
    assert tree(storage.inputs_dir(job)) == ["0"]  # the upload waits on disk for the worker


@pytest.mark.parametrize("flag", ["false", "0", ""])
def test_async_false_is_a_sync_call(user_client, flag):
    response = post_tool(user_client, "resize", {"width": 70}, **{"async": flag})

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


# --- GET /api/v1/jobs -----------------------------------------------------------------


def test_users_list_their_own_jobs_newest_first(user_client, user, other_user):
    first = make_job(user, tool_id="resize")
    make_job(other_user)
    second = make_job(user, status=Job.Status.FAILED, error_code="CORRUPT_IMAGE")

    response = user_client.get("/api/v1/jobs")

    assert response.status_code == 200
    jobs = response.json()["jobs"]
    assert [j["id"] for j in jobs] == [str(second.pk), str(first.pk)]
    assert {j["owner"] for j in jobs} == {"alice"}
    assert jobs[0]["error"] == {"code": "CORRUPT_IMAGE", "message": ""}


def test_admins_list_every_users_jobs(admin_client, user, other_user):
    mine, theirs = make_job(user), make_job(other_user)

    jobs = admin_client.get("/api/v1/jobs").json()["jobs"]

    assert {j["id"] for j in jobs} == {str(mine.pk), str(theirs.pk)}
    assert {j["owner"] for j in jobs} == {"alice", "bob"}


def test_the_list_filters_by_status(admin_client, user, other_user):
    make_job(user)
    failed = make_job(other_user, status=Job.Status.FAILED)
    with_result(make_job(user))

    response = admin_client.get("/api/v1/jobs?status=failed")

    assert [j["id"] for j in response.json()["jobs"]] == [str(failed.pk)]
    assert len(admin_client.get("/api/v1/jobs?status=completed").json()["jobs"]) == 1
    assert admin_client.get("/api/v1/jobs?status=cancelled").json()["jobs"] == []


def test_an_unknown_status_filter_is_400(user_client):
    body = assert_error(user_client.get("/api/v1/jobs?status=done"), 400, "VALIDATION_ERROR")
    assert "queued" in body["error"]


def test_the_list_limit_is_bounded(user_client, user):
    for _ in range(3):
        make_job(user)

    assert len(user_client.get("/api/v1/jobs?limit=2").json()["jobs"]) == 2
    assert len(user_client.get("/api/v1/jobs?limit=200").json()["jobs"]) == 3
    for bad in ("0", "201", "-1", "ten"):
        assert_error(user_client.get(f"/api/v1/jobs?limit={bad}"), 400, "VALIDATION_ERROR")


def test_anonymous_callers_cannot_list_jobs(anon):
    assert_error(anon.get("/api/v1/jobs"), 401, "AUTH_REQUIRED")


# --- GET /api/v1/jobs/<id> ------------------------------------------------------------


def test_a_running_job_shows_its_progress_and_items(user_client, user):
    job = make_job(
        user,
        status=Job.Status.PROCESSING,
        each_file=True,
        percent=42.5,
        stage="resize",
        message="5/12 files",
        items_total=12,
        items_done=4,
        items_failed=1,
        started_at=timezone.now(),
    )

    data = user_client.get(f"/api/v1/jobs/{job.pk}").json()

    assert data["status"] == "processing" and data["kind"] == "batch"
    assert data["progress"] == 42.5 and data["stage"] == "resize"
    assert data["message"] == "5/12 files"
    assert data["items"] == {"total": 12, "done": 4, "failed": 1}
    assert data["queuePosition"] is None and data["result"] is None and data["error"] is None
    assert data["downloadUrl"] == f"/api/v1/jobs/{job.pk}/download"


def test_a_failed_job_shows_its_error(user_client, user):
    job = make_job(
        user, status=Job.Status.FAILED, error_code="WORKER_LOST", error_message="It died"
    )

    data = user_client.get(f"/api/v1/jobs/{job.pk}").json()

    assert data["error"] == {"code": "WORKER_LOST", "message": "It died"}
    assert data["etaSeconds"] is None


def test_a_completed_job_shows_its_result_and_duration(user_client, user):
    job = with_result(make_job(user, tool_id="resize", duration_s=2.5, engine="libvips 8"))

    data = user_client.get(f"/api/v1/jobs/{job.pk}").json()

    assert data["result"] == {
        "name": "photo_resize.jpg",
        "size": len(PHOTO),
        "mediaType": "image/jpeg",
        "info": {},
    }
    assert data["durationS"] == 2.5 and data["engine"] == "libvips 8"


def test_queued_jobs_are_numbered_in_creation_order_within_their_queue(
    user_client, admin_client, user, other_user
):
    first = make_job(user)
    gpu_first = make_job(other_user, queue="gpu")
    second = make_job(other_user)
    make_job(user, status=Job.Status.PROCESSING)  # running: not in the line
    third = make_job(user)
    gpu_second = make_job(user, queue="gpu")

    def position(job: Job) -> int:
        return admin_client.get(f"/api/v1/jobs/{job.pk}").json()["queuePosition"]

    assert [position(j) for j in (first, second, third)] == [1, 2, 3]
    assert [position(j) for j in (gpu_first, gpu_second)] == [1, 2]
    # A user sees their place in the shared line, other users' jobs counted.
    assert user_client.get(f"/api/v1/jobs/{third.pk}").json()["queuePosition"] == 3


def test_eta_comes_from_the_average_duration_of_that_tools_finished_jobs(
    user_client, user, other_user, settings
):
    settings.WORKER_CONCURRENCY = 2
    make_job(other_user, status=Job.Status.COMPLETED, duration_s=10)
    make_job(other_user, status=Job.Status.COMPLETED, duration_s=20)
    make_job(other_user, status=Job.Status.COMPLETED, tool_id="resize", duration_s=500)
    make_job(other_user, status=Job.Status.FAILED, duration_s=900)  # failures don't count
    queued = [make_job(user) for _ in range(3)]
    running = make_job(user, status=Job.Status.PROCESSING, percent=40, started_at=timezone.now())
    unknown = make_job(user, tool_id="rotate")  # no finished rotate job yet

    def eta(job: Job) -> float | None:
        return user_client.get(f"/api/v1/jobs/{job.pk}").json()["etaSeconds"]

    # Two workers: positions 1 and 2 start now, position 3 after one average job (15 s).
    assert [eta(j) for j in queued] == [15.0, 15.0, 30.0]
    assert eta(running) == 9.0  # 60 % of the average left
    assert eta(unknown) is None


# --- GET /api/v1/jobs/<id>/download ---------------------------------------------------


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.PROCESSING])
def test_downloading_an_unfinished_job_is_409(user_client, user, status):
    job = make_job(user, status=status)

    body = assert_error(user_client.get(f"/api/v1/jobs/{job.pk}/download"), 409, "JOB_NOT_FINISHED")
    assert status in body["error"]


def test_downloading_an_expired_result_is_410(user_client, user):
    job = with_result(make_job(user, tool_id="resize"))
    storage.discard_all(job)  # what housekeeping does after JOB_RESULT_TTL_HOURS

    response = user_client.get(f"/api/v1/jobs/{job.pk}/download")

    assert_error(response, 410, "RESULT_GONE")
    assert response["X-Job-Id"] == str(job.pk)


def test_downloading_a_failed_job_answers_its_error(user_client, user):
    job = make_job(
        user,
        status=Job.Status.FAILED,
        error_code="CORRUPT_IMAGE",
        error_message="cut.jpg is truncated",
        error_status=422,
    )

    body = assert_error(user_client.get(f"/api/v1/jobs/{job.pk}/download"), 422, "CORRUPT_IMAGE")
    assert body["error"] == "cut.jpg is truncated"


def test_downloading_a_cancelled_job_is_409(user_client, user):
    job = make_job(user, status=Job.Status.CANCELLED, finished_at=timezone.now())

    assert_error(user_client.get(f"/api/v1/jobs/{job.pk}/download"), 409, "JOB_CANCELLED")


# --- ownership --------------------------------------------------------------------------

ENDPOINTS = [("get", ""), ("get", "/download"), ("post", "/cancel"), ("get", "/progress")]


@pytest.mark.parametrize(("method", "suffix"), ENDPOINTS, ids=lambda v: v or "detail")
@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.COMPLETED])
def test_another_users_job_is_404(user_client, other_user, method, suffix, status):
    job = make_job(other_user, status=status)
    if status == Job.Status.COMPLETED:
        with_result(job)

    response = getattr(user_client, method)(f"/api/v1/jobs/{job.pk}{suffix}")

    assert_error(response, 404, "NOT_FOUND")
    job.refresh_from_db()
    assert job.status == status and not job.cancel_requested


@pytest.mark.parametrize(("method", "suffix"), ENDPOINTS, ids=lambda v: v or "detail")
def test_an_unknown_job_is_404(user_client, method, suffix):
    response = getattr(user_client, method)(f"/api/v1/jobs/{uuid.uuid4()}{suffix}")
    assert_error(response, 404, "NOT_FOUND")


def test_an_admin_sees_and_downloads_another_users_job(admin_client, other_user):
    job = with_result(make_job(other_user, tool_id="resize"))

    assert admin_client.get(f"/api/v1/jobs/{job.pk}").json()["owner"] == "bob"
    assert body_of(admin_client.get(f"/api/v1/jobs/{job.pk}/download")) == PHOTO
    assert sse_events(admin_client.get(f"/api/v1/jobs/{job.pk}/progress"))[-1]["progress"] == 100


def test_an_api_key_sees_its_users_jobs_only(client_for, api_key_for, user, other_user):
    client = client_for(api_key_for(user))
    mine, theirs = make_job(user), make_job(other_user)

    assert [j["id"] for j in client.get("/api/v1/jobs").json()["jobs"]] == [str(mine.pk)]
    assert client.get(f"/api/v1/jobs/{theirs.pk}").status_code == 404


def test_without_auth_anonymous_jobs_are_visible_to_anonymous_callers_only(
    anon, user_client, user, settings
):
    settings.AUTH_ENABLED = False
    response = post_tool(anon, "resize", {"width": 30})
    anonymous_job = response["X-Job-Id"]
    alices = make_job(user)

    assert [j["id"] for j in anon.get("/api/v1/jobs").json()["jobs"]] == [anonymous_job]
    assert anon.get(f"/api/v1/jobs/{anonymous_job}").json()["owner"] is None
    assert anon.get(f"/api/v1/jobs/{anonymous_job}/download").status_code == 200
    assert sse_events(anon.get(f"/api/v1/jobs/{anonymous_job}/progress"))[-1]["status"] == (
        "completed"
    )
    for suffix in ("", "/download", "/progress"):
        assert anon.get(f"/api/v1/jobs/{alices.pk}{suffix}").status_code == 404
    assert anon.post(f"/api/v1/jobs/{alices.pk}/cancel").status_code == 404
    # A signed-in user does not see the anonymous jobs either.
    assert [j["id"] for j in user_client.get("/api/v1/jobs").json()["jobs"]] == [str(alices.pk)]
    assert user_client.get(f"/api/v1/jobs/{anonymous_job}").status_code == 404


def test_a_job_stays_queued_with_its_input_until_a_worker_takes_it(user_client, no_worker):
    response = post_tool(user_client, "convert", {"format": "webp"}, HTTP_PREFER="respond-async")
    job = Job.objects.get(pk=response["X-Job-Id"])

    execute.run_job(str(job.pk), 1)  # the worker, later

    job.refresh_from_db()
    assert job.status == "completed" and job.result_name == "photo_convert.webp"
    assert tree(storage.job_dir(job)) == ["out/result.webp"]


def test_a_job_runs_only_for_its_current_attempt(user):
    """A task delivered twice (or late, after a requeue) finds nothing to do."""
    job = with_input(make_job(user, tool_id="resize", settings={"width": 20}))

    execute.run_job(str(job.pk), 2)  # not its attempt: attempts is 0, so 1 is next
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 0

    execute.run_job(str(job.pk), 1)
    execute.run_job(str(job.pk), 1)  # the duplicate
    job.refresh_from_db()
    assert job.status == "completed" and job.attempts == 1


def test_the_list_pages_like_the_library(user_client, user):
    """page/pageSize in; page, pageSize, total and totalPages out, newest first."""
    made = [make_job(user) for _ in range(5)]

    first = user_client.get("/api/v1/jobs?page=1&pageSize=2").json()
    last = user_client.get("/api/v1/jobs?page=3&pageSize=2").json()

    assert (first["page"], first["pageSize"], first["total"], first["totalPages"]) == (1, 2, 5, 3)
    assert [j["id"] for j in first["jobs"]] == [str(j.pk) for j in reversed(made[-2:])]
    assert [j["id"] for j in last["jobs"]] == [str(made[0].pk)]
    for bad in ("page=0", "pageSize=0", "pageSize=201", "page=x"):
        assert_error(user_client.get(f"/api/v1/jobs?{bad}"), 400, "VALIDATION_ERROR")
