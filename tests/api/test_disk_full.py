"""A full or nearly full disk: new work gets 507, a job that fills it fails DISK_FULL and
frees what it wrote, and the upkeep task never retries into a full disk.

tests/live/test_disk_full.py does the same on a real small file system; these tests
reach each rule directly (free space as the check reads it, ENOSPC raised by a tool).
"""

from __future__ import annotations

import dataclasses
import errno
import json
from typing import Any

import pytest
from django.db import OperationalError

from apps.core import disk
from apps.jobs import execute, maintenance, storage
from apps.jobs.models import Job
from apps.library.models import StoredFile
from tests.api.jobs_support import make_job, photo, tree, with_input
from tests.api.support import assert_error
from tools import registry

pytestmark = pytest.mark.django_db


def test_free_space_is_read_even_before_the_data_dir_exists(settings, tmp_path) -> None:
    import shutil

    settings.DATA_DIR = tmp_path / "not-yet"
    free = disk.free_mb()
    assert settings.DATA_DIR.is_dir()
    assert abs(free - shutil.disk_usage(tmp_path).free / disk.MB) < 64  # the same disk


@pytest.fixture
def nearly_full(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MIN_FREE_DISK_MB = 100
    monkeypatch.setattr(disk, "free_mb", lambda: 40.0)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/tools/resize", "file"),
        ("/api/v1/tools/resize/batch", "files"),
        ("/api/v1/pipeline/execute", "file"),
        ("/api/v1/upload", "files"),
    ],
)
def test_new_work_is_refused_with_507_below_the_reserve(user_client, nearly_full, path, field):
    data = {
        field: photo(),
        "settings": json.dumps({"width": 10}),
        "pipeline": json.dumps([{"toolId": "resize", "settings": {"width": 10}}]),
    }
    body = assert_error(user_client.post(path, data, format="multipart"), 507, "DISK_FULL")
    assert "MIN_FREE_DISK_MB = 100 MB" in body["error"]
    assert not Job.objects.exists() and not StoredFile.objects.exists()


def test_the_reserve_check_can_be_turned_off(user_client, settings, monkeypatch):
    settings.MIN_FREE_DISK_MB = 0
    monkeypatch.setattr(disk, "free_mb", lambda: 0.0)
    data = {"file": photo(), "settings": json.dumps({"width": 10})}
    assert user_client.post("/api/v1/tools/resize", data, format="multipart").status_code == 200


def failing_tool(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """`disk-filler`: writes a partial output into its scratch space, then fails."""
    resize = registry.get("resize")
    assert resize is not None

    def run(sources: Any, settings: Any, ctx: Any) -> Any:
        ctx.scratch_path("partial.png").write_bytes(b"\0" * 1000)
        raise error

    tool = dataclasses.replace(resize, id="disk-filler", run=run)
    monkeypatch.setitem(registry._tools(), "disk-filler", tool)


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OperationalError("database or disk is full"),
    ],
    ids=["os", "sqlite"],
)
def test_a_job_that_fills_the_disk_fails_disk_full_and_frees_its_files(user, monkeypatch, error):
    failing_tool(monkeypatch, error)
    job = with_input(make_job(user, tool_id="disk-filler", settings={"width": 10}))

    execute.run_job(str(job.pk), 1)

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_status) == ("failed", "DISK_FULL", 507)
    assert tree(storage.job_dir(job)) == []  # inputs, scratch and partial output gone


def test_a_job_is_not_started_while_the_disk_is_nearly_full(user, nearly_full, monkeypatch):
    ran: list[str] = []
    monkeypatch.setattr(execute, "perform", lambda job, reporter, steps=None: ran.append("ran"))
    job = with_input(make_job(user, tool_id="resize", settings={"width": 10}))

    execute.run_job(str(job.pk), 1)

    job.refresh_from_db()
    assert (job.status, job.error_code) == ("failed", "DISK_FULL") and ran == []


def test_a_lost_job_is_failed_not_retried_while_the_disk_is_nearly_full(user, nearly_full):
    job = with_input(
        make_job(
            user,
            status=Job.Status.PROCESSING,
            tool_id="resize",
            settings={"width": 10},
            attempts=1,
        )
    )
    Job.objects.filter(pk=job.pk).update(heartbeat_at=job.created_at.replace(year=2000))
    (storage.work_dir(job) / "batch.zip").parent.mkdir(parents=True)
    (storage.work_dir(job) / "batch.zip").write_bytes(b"partial")

    counts = maintenance.recover_lost_jobs()

    assert counts["diskFull"] == 1 and counts["requeued"] == 0
    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_status) == ("failed", "DISK_FULL", 507)
    assert tree(storage.job_dir(job)) == []
