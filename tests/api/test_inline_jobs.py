"""A job run inside its request (apps.jobs.services.submit, apps.jobs.execute.run_inline):
its row is written once, when it ends, and no heartbeat thread watches it (issue 14).

tests/api/test_jobs.py and test_jobs_placement.py cover what such a call answers and
where a job runs; these count the writes and check what the single write leaves."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from apps.jobs import execute, services, storage
from apps.jobs.models import Job
from apps.library.models import FileVersion
from apps.library.services import store_upload
from tests.api.jobs_support import PHOTO, body_of, photo, post_tool, settled_tree, tree
from tests.api.support import assert_error
from tests.badfiles import text_as_jpeg, truncated_jpeg

pytestmark = pytest.mark.django_db

TABLE = Job._meta.db_table
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
    b'<rect width="40" height="30"/></svg>'
)


class JobWrites:
    """The INSERT and UPDATE statements on the jobs table while it is open."""

    def __init__(self, queries: CaptureQueriesContext) -> None:
        self.queries = queries

    def count(self, verb: str) -> int:
        prefix = f'{verb} "{TABLE}"'
        return sum(q["sql"].lstrip().upper().startswith(prefix.upper()) for q in self.queries)

    @property
    def inserts(self) -> int:
        return self.count("INSERT INTO")

    @property
    def updates(self) -> int:
        return self.count("UPDATE")


@pytest.fixture
def job_writes() -> Iterator[JobWrites]:
    with CaptureQueriesContext(connection) as queries:
        yield JobWrites(queries)


@pytest.fixture
def heartbeats(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The heartbeat threads started (the real class still runs)."""
    started: list[Any] = []
    real = execute.Heartbeat

    def recorded(job_id: Any) -> Any:
        started.append(job_id)
        return real(job_id)

    monkeypatch.setattr(execute, "Heartbeat", recorded)
    return started


@pytest.fixture
def not_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "enqueue", lambda job: pytest.fail(f"queued job {job.pk}"))


def heartbeat_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("heartbeat-")]


def job_threads() -> int:
    """Threads now, but the one that removes finished jobs' working files (started once)."""
    return sum(t.name != "job-files-remover" for t in threading.enumerate())


def test_a_sync_resize_writes_its_job_row_once(
    user_client, user, settings, job_writes, heartbeats, not_queued
) -> None:
    threads_before = job_threads()

    response = post_tool(user_client, "resize", {"width": 120})

    assert response.status_code == 200, response.content[:300]
    assert (job_writes.inserts, job_writes.updates) == (1, 0)
    assert heartbeats == [] and heartbeat_threads() == []
    assert job_threads() == threads_before
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert (job.owner, job.tool_id, job.status, job.attempts) == (user, "resize", "completed", 1)
    assert job.percent == 100 and job.message == "done" and job.error_code == ""
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    assert job.input_names == ["photo.jpg"] and job.input_size == len(PHOTO)
    folder = settings.DATA_DIR / "jobs" / str(job.pk)
    # in/ and work/ go (just after the answer), the result stays
    assert settled_tree(folder, ["out/result.jpg"]) == ["out/result.jpg"]
    assert not (folder / "in").exists() and not (folder / "work").exists()
    assert (folder / "out" / "result.jpg").stat().st_size == job.result_size
    assert len(body_of(response)) == job.result_size


def test_the_written_job_reads_back_like_any_other(user_client, not_queued) -> None:
    response = post_tool(user_client, "resize", {"width": 60})
    job_id = response["X-Job-Id"]

    detail = user_client.get(f"/api/v1/jobs/{job_id}")
    again = user_client.get(f"/api/v1/jobs/{job_id}/download")

    assert detail.status_code == 200 and detail.json()["status"] == "completed"
    assert again.status_code == 200 and body_of(again) == body_of(response)


def test_an_upload_that_is_not_an_image_leaves_one_failed_job(
    user_client, settings, job_writes, not_queued
) -> None:
    response = post_tool(
        user_client, "resize", {"width": 100}, file=photo("photo.jpg", text_as_jpeg())
    )

    body = assert_error(response, 400, "UNSUPPORTED_FORMAT")
    assert (job_writes.inserts, job_writes.updates) == (1, 0)
    job = Job.objects.get()
    assert (job.status, job.error_code, job.error_status) == ("failed", "UNSUPPORTED_FORMAT", 400)
    assert job.error_message == body["error"]
    assert settled_tree(settings.DATA_DIR / "jobs" / str(job.pk), []) == []


def test_a_tool_that_fails_inline_writes_its_failed_row_once(
    user_client, settings, job_writes, heartbeats, not_queued
) -> None:
    response = post_tool(
        user_client, "resize", {"width": 100}, file=photo("cut.jpg", truncated_jpeg())
    )

    body = assert_error(response, 422, "CORRUPT_IMAGE")
    assert (job_writes.inserts, job_writes.updates) == (1, 0)
    assert heartbeats == []
    job = Job.objects.get()
    assert (job.status, job.attempts, job.error_code) == ("failed", 1, "CORRUPT_IMAGE")
    assert job.error_message == body["error"] and job.result_file == ""
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    assert settled_tree(settings.DATA_DIR / "jobs" / str(job.pk), []) == []


def test_an_svg_for_an_inline_tool_is_written_before_it_is_queued(
    user_client, settings, monkeypatch
) -> None:
    """An SVG is for a worker to render: its job's row and inputs must be there when a
    worker looks (test_jobs_placement.py checks that it is queued at all)."""
    at_enqueue: list[tuple[str, int, list[str]]] = []

    def enqueue(job: Job) -> None:
        row = Job.objects.get(pk=job.pk)
        at_enqueue.append((row.status, row.attempts, tree(storage.inputs_dir(job))))

    monkeypatch.setattr(services, "enqueue", enqueue)
    monkeypatch.setattr(services, "run_inline", lambda job: pytest.fail("ran an SVG inline"))
    monkeypatch.setattr(services, "wait_for", functools.partial(services.wait_for, timeout=0.05))
    svg = SimpleUploadedFile("drawing.svg", SVG, content_type="image/svg+xml")

    response = user_client.post(
        "/api/v1/tools/resize", {"file": svg, "settings": json.dumps({"width": 10})}
    )

    assert response.status_code == 202, response.content[:300]
    assert at_enqueue == [("queued", 0, ["0"])]
    assert Job.objects.get().pk == Job.objects.get(pk=response["X-Job-Id"]).pk


def test_a_library_target_saves_a_version_linked_to_the_job_row(
    user_client, user, job_writes, heartbeats, not_queued
) -> None:
    stored = store_upload(user, SimpleUploadedFile("p.jpg", PHOTO))
    data = {"settings": json.dumps({"width": 120, "fileId": str(stored.pk)})}

    response = user_client.post("/api/v1/tools/resize", data)

    assert response.status_code == 200, response.content[:300]
    # Written before the version that links to it, then finished in place: one row.
    assert (job_writes.inserts, job_writes.updates) == (1, 1)
    assert heartbeats == []
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert (job.status, job.attempts, job.library_files) == ("completed", 1, [str(stored.pk)])
    latest = FileVersion.objects.filter(file=stored).order_by("-number").first()
    assert latest is not None and latest.number == 2 and latest.job_id == job.pk
    assert job.result_info["savedFileId"] == str(stored.pk)
    assert job.result_info["savedVersion"] == 2


def test_a_database_error_in_an_inline_run_fails_it_as_unavailable(
    user_client, monkeypatch, job_writes, not_queued
) -> None:
    """No row to give back to a worker: the request answers 503 and the failure is
    written (the database answers again by then)."""

    def blip(job, reporter, steps=None):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(execute, "perform", blip)

    response = post_tool(user_client, "resize", {"width": 50})

    assert_error(response, 503, "DATABASE_UNAVAILABLE")
    assert (job_writes.inserts, job_writes.updates) == (1, 0)
    job = Job.objects.get()
    assert (job.status, job.error_code, job.error_status) == ("failed", "DATABASE_UNAVAILABLE", 503)


def test_an_inline_run_whose_failure_cannot_be_written_answers_503(
    user_client, monkeypatch, not_queued
) -> None:
    """The database is gone for good: not even the failure is written; still a JSON 503."""

    def down(job, reporter, steps=None):
        raise OperationalError("could not connect to server")

    def unwritable(self, *args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(execute, "perform", down)
    monkeypatch.setattr(Job, "save", unwritable)

    response = post_tool(user_client, "resize", {"width": 50})

    assert_error(response, 503, "DATABASE_UNAVAILABLE")
    assert not Job.objects.exists()
