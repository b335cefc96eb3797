"""Jobs against the real thing: uvicorn + a django-q2 worker (scripts/serve.sh) on SQLite.

SSE progress read by a real HTTP client, a worker process SIGKILLed mid-job, and a
restart of web and worker with jobs still queued. The processes get their own DATA_DIR,
JOB_HEARTBEAT_S=1 and JOB_STALE_S=5 so that a lost worker is noticed in seconds.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips

from tests.badfiles import FIXTURES
from tests.live.stack import (
    STALE_S,
    WAIT_S,
    Stack,
    running_stack,
    session_members,
    wait_for_log,
    wait_until,
)

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("jobs-live")) as stack:
        yield stack


@pytest.fixture(scope="module")
def auth(stack: Stack) -> dict[str, str]:
    return stack.login()


def submit_batch(stack: Stack, auth: dict[str, str], image: bytes, count: int) -> str:
    """An async batch rotating `count` copies, two at a time (CONCURRENT_JOBS=2), each on
    one thread (VIPS_CONCURRENCY=1), so it lasts about as long on any machine."""
    files = [("files", (f"photo-{i}.jpg", image, "image/jpeg")) for i in range(count)]
    response = httpx.post(
        f"{stack.base}/api/v1/tools/rotate/batch",
        headers={**auth, "Prefer": "respond-async"},
        files=files,
        data={"settings": json.dumps({"angle": 45})},  # resampled: ~0.8 s a file
        timeout=WAIT_S,
    )
    assert response.status_code == 202, response.text
    return response.json()["jobId"]


def job(stack: Stack, auth: dict[str, str], job_id: str) -> dict[str, Any]:
    response = httpx.get(f"{stack.base}/api/v1/jobs/{job_id}", headers=auth, timeout=WAIT_S)
    assert response.status_code == 200, response.text
    return response.json()


def finished(stack: Stack, auth: dict[str, str], job_id: str) -> dict[str, Any]:
    return wait_until(
        lambda: (
            (data := job(stack, auth, job_id))["status"] not in ("queued", "processing") and data
        ),
        f"job {job_id} to finish",
    )


def sse_events(stack: Stack, auth: dict[str, str], job_id: str) -> list[dict[str, Any]]:
    """Every `data:` event of the job's progress stream, read until the server ends it."""
    events = []
    deadline = time.monotonic() + WAIT_S
    url = f"{stack.base}/api/v1/jobs/{job_id}/progress"
    with httpx.stream("GET", url, headers=auth, timeout=WAIT_S) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            assert time.monotonic() < deadline, "the stream did not end"
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
    return events


def test_sse_streams_a_batchs_progress_to_a_real_client_and_ends(stack, auth, big_jpeg):
    job_id = submit_batch(stack, auth, big_jpeg, 12)

    events = sse_events(stack, auth, job_id)

    progress = [e["progress"] for e in events]
    assert len(events) >= 4, events
    assert progress == sorted(progress), progress
    assert any(0 < e["progress"] < 100 and e["status"] == "processing" for e in events)
    assert len({e["items"]["done"] for e in events}) >= 3, events  # files finishing one by one
    last = events[-1]
    assert last["status"] == "completed" and last["progress"] == 100
    assert last["items"] == {"total": 12, "done": 12, "failed": 0}
    assert all(e["jobId"] == job_id for e in events)
    # A finished job's stream replays its final event at once and ends.
    assert sse_events(stack, auth, job_id) == [last]


def test_a_sync_call_to_a_queued_tool_waits_for_the_worker(stack, auth):
    with (FIXTURES / "photo.jpg").open("rb") as fh:
        response = httpx.post(
            f"{stack.base}/api/v1/tools/convert",  # not inline: the worker runs it
            headers=auth,
            files={"file": ("photo.jpg", fh, "image/jpeg")},
            data={"settings": json.dumps({"format": "png"})},
            timeout=WAIT_S,
        )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert pyvips.Image.new_from_buffer(response.content, "").width > 0
    assert job(stack, auth, response.headers["x-job-id"])["status"] == "completed"


def worker_running(stack: Stack, job_id: str, attempt: int) -> int:
    """The pid of the worker process that took attempt `attempt` of the job (from its log)."""
    task = re.escape(f"job-{job_id}-{attempt}")
    process = wait_for_log(stack, rf"(Process-\w+) processing {task}").group(1)
    return int(wait_for_log(stack, rf"{process} ready for work at (\d+)").group(1))


def kill_worker_mid_job(
    stack: Stack, auth: dict[str, str], job_id: str, attempt: int, signum: int = signal.SIGKILL
) -> int:
    """SIGKILL (or `signum`) the worker process running the job, while it runs; its pid."""
    pid = worker_running(stack, job_id, attempt)
    assert pid in session_members(stack.worker_pid or -1), "not a process of the worker"
    seen: list[dict[str, Any]] = []

    def processing() -> dict[str, Any] | None:
        seen.append(job(stack, auth, job_id))
        return seen[-1] if seen[-1]["status"] == "processing" else None

    try:
        data = wait_until(processing, "processing")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the job was last {seen[-1] if seen else None}") from None
    assert data["items"]["done"] < data["items"]["total"], "the job ended before the kill"
    os.kill(pid, signum)
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), "the worker to die")
    return pid


def recover_after_stale(stack: Stack, killed_at: float) -> dict[str, int]:
    """Run the maintenance task once the lost job's heartbeat is older than JOB_STALE_S."""
    time.sleep(max(0.0, killed_at + STALE_S + 0.5 - time.monotonic()))
    out = stack.manage(
        "shell", "-c", "from apps.jobs.maintenance import recover_lost_jobs as r; print(r())"
    )
    return json.loads(out.strip().splitlines()[-1].replace("'", '"'))


def test_a_job_whose_worker_is_killed_is_retried_and_completes(stack, auth, big_jpeg):
    job_id = submit_batch(stack, auth, big_jpeg, 8)

    killed = kill_worker_mid_job(stack, auth, job_id, attempt=1)
    killed_at = time.monotonic()
    assert job(stack, auth, job_id)["status"] == "processing"  # nobody knows yet
    counts = recover_after_stale(stack, killed_at)

    data = finished(stack, auth, job_id)
    assert data["status"] == "completed", data
    assert data["items"] == {"total": 8, "done": 8, "failed": 0}
    assert stack.db("SELECT attempts FROM jobs_job WHERE id = ?", job_id.replace("-", "")) == (2,)
    assert worker_running(stack, job_id, attempt=2) != killed  # a fresh worker took it
    # The scheduled copy of the task may have got there first; one of them requeued it.
    assert counts["lost"] == 0 and counts["requeued"] <= 1
    download = httpx.get(f"{stack.base}{data['downloadUrl']}", headers=auth, timeout=WAIT_S)
    assert download.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert len(names) == 9 and "manifest.json" in names


def test_a_worker_ended_by_term_mid_job_is_replaced_and_the_job_retried(stack, auth, big_jpeg):
    """TERM is how the sentinel ends a worker past its timeout. The worker must die of it
    (it must not inherit the handler with which TERM stops the sentinel, apps.jobs.cluster)
    and another take its place, while the rest of the cluster runs on."""
    job_id = submit_batch(stack, auth, big_jpeg, 8)

    killed = kill_worker_mid_job(stack, auth, job_id, attempt=1, signum=signal.SIGTERM)
    recover_after_stale(stack, time.monotonic())

    data = finished(stack, auth, job_id)
    assert data["status"] == "completed", data
    assert worker_running(stack, job_id, attempt=2) != killed
    assert stack.worker_pid in session_members(stack.worker_pid)  # the sentinel runs on


def test_a_job_whose_worker_dies_on_every_attempt_fails_with_worker_lost(stack, auth, big_jpeg):
    # 32 files (~13 s a run): the scheduled upkeep may requeue the job before this test's
    # own recovery does, and the second attempt must still be running when we look.
    job_id = submit_batch(stack, auth, big_jpeg, 32)

    for attempt in (1, 2):  # JOB_MAX_ATTEMPTS=2
        kill_worker_mid_job(stack, auth, job_id, attempt)
        recover_after_stale(stack, time.monotonic())

    data = finished(stack, auth, job_id)
    assert data["status"] == "failed", data
    assert data["error"]["code"] == "WORKER_LOST"
    assert data["finishedAt"] is not None


def submit_resize(stack: Stack, auth: dict[str, str], width: int) -> str:
    with (FIXTURES / "photo.jpg").open("rb") as fh:
        response = httpx.post(
            f"{stack.base}/api/v1/tools/resize",
            headers=auth,
            files={"file": ("photo.jpg", fh, "image/jpeg")},
            data={"settings": json.dumps({"width": width}), "async": "true"},
            timeout=WAIT_S,
        )
    assert response.status_code == 202, response.text
    return response.json()["jobId"]


def download(stack: Stack, auth: dict[str, str], job_id: str) -> bytes:
    response = httpx.get(f"{stack.base}/api/v1/jobs/{job_id}/download", headers=auth)
    assert response.status_code == 200, response.text
    return response.content


def test_queued_jobs_run_after_a_restart_and_results_still_download(stack, auth):
    done = submit_resize(stack, auth, 100)
    assert finished(stack, auth, done)["status"] == "completed"
    before = download(stack, auth, done)

    stack.stop()
    stack.start(worker=False)  # the web server alone: jobs are accepted and wait
    waiting = [submit_resize(stack, auth, width) for width in (60, 70)]
    time.sleep(1)
    assert [job(stack, auth, j)["status"] for j in waiting] == ["queued", "queued"]
    stack.stop()
    stack.start()

    for job_id, width in zip(waiting, (60, 70), strict=True):
        assert finished(stack, auth, job_id)["status"] == "completed"
        assert pyvips.Image.new_from_buffer(download(stack, auth, job_id), "").width == width
    assert download(stack, auth, done) == before
