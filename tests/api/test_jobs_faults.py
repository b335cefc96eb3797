"""Failures outside the tool (disk, bugs) end a job with a clear error, never a stuck one."""

import errno
import time

import pytest
from django.db import OperationalError

from apps.jobs import execute, results, storage
from apps.jobs.models import Job
from tests.api.jobs_support import post_tool, tree

pytestmark = pytest.mark.django_db


def test_a_full_disk_fails_the_job_with_disk_full(user_client, monkeypatch, settings):
    """A unit test of the error mapping: keep_result is made to raise ENOSPC, as writing the
    result to a full DATA_DIR would (tests/live/test_disk_full.py fills a real disk)."""

    def no_space(job, produced):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage, "keep_result", no_space)

    response = post_tool(user_client, "resize", {"width": 50})

    assert response.status_code == 507
    body = response.json()
    assert body == {
        "error": "The server's disk is full: the result could not be written",
        "code": "DISK_FULL",
    }
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert job.status == "failed" and job.error_code == "DISK_FULL" and job.error_status == 507
    assert job.finished_at is not None
    assert tree(settings.DATA_DIR / "jobs" / str(job.pk)) == []  # nothing left behind
    detail = user_client.get(f"/api/v1/jobs/{job.pk}").json()
    assert detail["error"] == {"code": "DISK_FULL", "message": body["error"]}


def test_another_storage_error_fails_the_job_with_storage_error(user_client, monkeypatch):
    def read_only(job, produced):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(storage, "keep_result", read_only)

    response = post_tool(user_client, "resize", {"width": 50})

    assert response.status_code == 500
    assert response.json()["code"] == "STORAGE_ERROR"
    assert "Permission denied" in response.json()["error"]


def test_a_bug_fails_the_job_with_an_internal_error_and_no_details(user_client, monkeypatch):
    def broken(job, reporter, steps=None):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(execute, "perform", broken)

    response = post_tool(user_client, "resize", {"width": 50})

    assert response.status_code == 500
    assert response.json() == {"error": "The job failed unexpectedly", "code": "INTERNAL_ERROR"}
    assert Job.objects.get(pk=response["X-Job-Id"]).status == "failed"


def test_a_job_whose_tool_was_removed_fails_clearly(user):
    job = Job.objects.create(owner=user, tool_id="gone-tool")

    execute.run_job(str(job.pk), 1)

    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "TOOL_NOT_FOUND"
    assert job.error_status == 404


def test_the_heartbeat_survives_a_failed_database_write(settings, monkeypatch):
    """A transient error (SQLite busy past its timeout, a dropped connection) must not stop
    the heartbeat, or the running job would look lost and be run a second time."""
    settings.JOB_HEARTBEAT_S = 0.01
    writes: list[str] = []

    class FlakyRows:
        def update(self, **fields):
            writes.append("fail" if not writes else "ok")
            if writes[-1] == "fail":
                raise OperationalError("database is locked")
            return 1

    monkeypatch.setattr(Job.objects, "filter", lambda **kwargs: FlakyRows())
    heartbeat = execute.Heartbeat("some-job")
    heartbeat.start()
    deadline = time.monotonic() + 5
    while writes.count("ok") < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    heartbeat.stop()
    heartbeat.join(timeout=5)

    assert writes[0] == "fail" and writes.count("ok") >= 2


def test_inputs_removed_before_the_job_ran_fail_it_as_input_gone(user_client, monkeypatch):
    def vanished(job, reporter, steps=None):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(execute, "perform", vanished)

    response = post_tool(user_client, "resize", {"width": 50})

    assert response.status_code == 410
    assert response.json()["code"] == "INPUT_GONE"


def test_a_late_worker_cannot_overwrite_a_job_already_failed_as_lost(user, settings):
    """The maintenance task gave up on this attempt: when its worker finishes after all,
    the result is dropped and the job stays failed (and keeps any retry's inputs)."""
    job = Job.objects.create(owner=user, tool_id="resize", status="queued")
    claimed = execute.claim(str(job.pk), 1)
    assert claimed is not None
    Job.objects.filter(pk=job.pk).update(status="failed", error_code="WORKER_LOST")

    produced = settings.DATA_DIR / "late.jpg"
    produced.write_bytes(b"late result")
    assert execute.complete(claimed, results.Outcome(path=produced, name="late.jpg")) is False

    job.refresh_from_db()
    assert (job.status, job.error_code, job.result_file) == ("failed", "WORKER_LOST", "")


@pytest.fixture
def quick_give_back(monkeypatch):
    monkeypatch.setattr(execute, "GIVE_BACK_TRIES_S", (0.0,))


def test_a_database_error_gives_the_run_back_without_counting_an_attempt(
    user_client, monkeypatch, quick_give_back
):
    """A dropped connection mid-run is no fault of the job: it runs again (here at once:
    the test queue runs tasks inline) and its attempt is not spent."""
    real_perform = execute.perform
    calls: list[int] = []

    def blip_once(job, reporter, steps=None):
        calls.append(job.attempts)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_perform(job, reporter, steps)

    monkeypatch.setattr(execute, "perform", blip_once)
    response = post_tool(user_client, "convert", {"format": "png"}, HTTP_PREFER="respond-async")

    job = Job.objects.get(pk=response["X-Job-Id"])
    assert job.status == "completed", (job.error_code, job.message)
    assert calls == [1, 1]  # the second run was attempt 1 again
    assert (job.attempts, job.infra_retries) == (1, 1)


def test_database_errors_past_the_retries_fail_the_job_as_unavailable(
    user_client, monkeypatch, quick_give_back
):
    def always(job, reporter, steps=None):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(execute, "perform", always)
    response = post_tool(user_client, "convert", {"format": "png"}, HTTP_PREFER="respond-async")

    job = Job.objects.get(pk=response["X-Job-Id"])
    assert job.status == "failed" and job.error_code == "DATABASE_UNAVAILABLE"
    assert job.error_status == 503
    assert (job.attempts, job.infra_retries) == (1, execute.INFRA_RETRIES)


def test_progress_and_cancel_checks_survive_a_failed_database_write(monkeypatch):
    """A blip while a long job reports progress must not end the job."""
    from apps.jobs.context import Reporter

    class Broken:
        def update(self, **fields):
            raise OperationalError("database is locked")

        def exists(self):
            raise OperationalError("database is locked")

    monkeypatch.setattr(Job.objects, "filter", lambda **kwargs: Broken())
    reporter = Reporter("some-job")

    reporter.progress(40, "row 10/100")  # no exception
    assert reporter.is_cancelled() is False
    with pytest.raises(OperationalError):  # item counts are the record: not dropped
        reporter.progress(50, "file 2/4", items_done=2)
