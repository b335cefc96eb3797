"""The processes of `make run` (scripts/serve.sh → config/serve.py): the web server, and the
job worker forked from it in a session of its own: a sentinel (django-q2's pusher and
monitor are threads of it, apps.jobs.cluster) and one worker process at rest, two while
two jobs run (WORKER_CONCURRENCY=2 in stack.py)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.badfiles import FIXTURES
from tests.live.stack import (
    WAIT_S,
    Stack,
    proc_stat,
    running_stack,
    session_members,
    wait_for_log,
    wait_until,
)
from tests.live.test_jobs_live import finished, submit_batch

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # A worker beyond the first goes after MODEL_IDLE_UNLOAD_S idle (10 s: the least).
    data_dir = tmp_path_factory.mktemp("worker-processes")
    with running_stack(data_dir, MODEL_IDLE_UNLOAD_S="10") as stack:
        yield stack


def parent_of(pid: int) -> int:
    return int(proc_stat(pid)[1])


def alive(pids: list[int]) -> list[int]:
    """Without zombies: a killed session's processes go to PID 1, which may not reap them."""
    return [pid for pid in pids if Path(f"/proc/{pid}").exists() and state(pid) != "Z"]


def state(pid: int) -> str:
    try:
        return proc_stat(pid)[0]
    except OSError:
        return "Z"


def workers(stack: Stack) -> list[int]:
    """The worker session's processes other than its sentinel."""
    assert stack.worker_pid is not None
    return [pid for pid in session_members(stack.worker_pid) if pid != stack.worker_pid]


def test_the_worker_is_forked_from_the_web_process_and_rests_in_two_processes(stack):
    assert stack.process is not None and stack.worker_pid is not None
    # serve.sh execs config/serve.py, which forks the worker after loading Django.
    assert parent_of(stack.worker_pid) == stack.process.pid
    # The sentinel and one worker: no pusher or monitor process, no second idle worker.
    assert len(workers(stack)) == 1, session_members(stack.worker_pid)
    assert all(parent_of(pid) == stack.worker_pid for pid in workers(stack))


def test_a_second_worker_starts_for_a_waiting_job_and_goes_when_idle(stack, big_jpeg):
    auth = stack.login()
    first = submit_batch(stack, auth, big_jpeg, 8)  # a few seconds each, on one worker
    second = submit_batch(stack, auth, big_jpeg, 8)
    wait_until(lambda: len(alive(workers(stack))) == 2, "a second worker for the waiting job")
    assert finished(stack, auth, first)["status"] == "completed"
    assert finished(stack, auth, second)["status"] == "completed"
    wait_until(lambda: len(alive(workers(stack))) == 1, "the idle worker to go")
    assert "reincarnated" not in stack.log_text()  # it was let go, not replaced
    assert queued_rotate_completes(stack, auth)  # the one left still serves the queue


def queued_rotate_completes(stack: Stack, auth: dict[str, str]) -> bool:
    job_id = submit_batch(stack, auth, (FIXTURES / "photo.jpg").read_bytes(), 1)
    return finished(stack, auth, job_id)["status"] == "completed"


def test_the_web_server_stops_when_the_worker_dies(tmp_path):
    with running_stack(tmp_path) as stack:
        assert stack.process is not None and stack.worker_pid is not None
        os.kill(stack.worker_pid, signal.SIGKILL)  # the sentinel alone: its workers live on
        assert stack.process.wait(timeout=WAIT_S) == 1
        assert alive(session_members(stack.worker_pid)) == []  # the orphans were ended too


def test_requests_are_logged_one_by_one_only_when_asked(stack, tmp_path):
    httpx.get(f"{stack.base}/api/v1/health", timeout=WAIT_S)
    assert "GET /api/v1/health" not in stack.log_text()  # ACCESS_LOG is off by default
    with running_stack(tmp_path, ACCESS_LOG="true") as logging_stack:
        httpx.get(f"{logging_stack.base}/api/v1/health", timeout=WAIT_S)
        wait_for_log(logging_stack, r'"GET /api/v1/health HTTP/1.1" 200')


def test_term_stops_the_web_server_and_then_the_worker_in_order(tmp_path):
    """What `docker stop` and systemd send: both end by themselves, exit status 0."""
    with running_stack(tmp_path) as stack:
        assert stack.process is not None and stack.worker_pid is not None
        worker = stack.worker_pid
        stack.process.send_signal(signal.SIGTERM)
        assert stack.process.wait(timeout=WAIT_S) == 0
        assert session_members(worker) == []
        assert "stopping cluster processes" in stack.log_text()  # an orderly stop, no KILL
