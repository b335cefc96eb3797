"""A real Pixelsmith stack for live tests: scripts/serve.sh (uvicorn + a django-q2 worker),
or uvicorn alone, on a free port with its own DATA_DIR (SQLite), logging to a file.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
# The PostgreSQL server of .ci/run: tests that need PostgreSQL use it when DATABASE_URL is
# something else (SQLite), and fail, not skip, when it does not answer.
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/test"
WAIT_S = 60  # the longest any single wait may take (a loaded CI machine is slow)
STALE_S = 5  # JOB_STALE_S: the smallest the settings accept, so a lost worker shows in seconds


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else LOCAL_POSTGRES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LIVE_PASSWORD = "live-tests-password"  # what Stack.login() changes admin/admin to


def server_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATA_DIR=str(data_dir),
        PORT=str(port),
        HOST="127.0.0.1",
        PY=sys.executable,
        MAX_UPLOAD_SIZE_MB="1",
        RATE_LIMIT_PER_MIN="0",
        DJANGO_SETTINGS_MODULE="config.settings",
        STATIC_FROM_SOURCE="true",  # this checkout's static/, never a stale collectstatic
    )
    return env


def wait_healthy(base: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "server exited during start-up"
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become healthy")


class Stack:
    """The web server and the worker as scripts/serve.sh runs them (or the web server alone).

    serve.sh starts the worker in a session of its own, so stopping the script's process
    group is not enough: `kill` also ends that session, always, with SIGKILL.
    """

    def __init__(self, data_dir: Path, log: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = server_env(data_dir, self.port)
        self.env.update(
            MAX_UPLOAD_SIZE_MB="100",
            JOB_HEARTBEAT_S="1",
            JOB_STALE_S=str(STALE_S),
            JOB_MAX_ATTEMPTS="2",
            WORKER_CONCURRENCY="2",
            CONCURRENT_JOBS="2",
            VIPS_CONCURRENCY="1",  # job durations should not depend on the number of cores
            LOG_LEVEL="INFO",  # the worker's "ready for work at <pid>" lines are read below
        )
        self.env.update(env)
        self.password = "admin"  # the first admin's, until login() changes it
        self.process: subprocess.Popen[bytes] | None = None
        self.worker_pid: int | None = None
        self.log_start = 0  # where the current processes' output begins in the log

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
        )
        return done.stdout

    def start(self, worker: bool = True) -> None:
        """serve.sh (web + worker), or uvicorn alone as serve.sh starts it."""
        assert self.process is None
        self.log_start = self.log.stat().st_size if self.log.exists() else 0
        if worker:
            command = ["bash", "scripts/serve.sh"]
        else:
            command = [sys.executable, "-m", "uvicorn", "config.asgi:application"]
            command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, start_new_session=True, stdout=out, stderr=out
            )
        wait_healthy(self.base, self.process)
        if worker:
            self.worker_pid = int(wait_for_log(self, r"worker pid (\d+)").group(1))

    def stop(self) -> None:
        """What `docker stop` does: TERM, then wait for web and worker to exit."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=WAIT_S)
        if self.worker_pid is not None:
            deadline = time.monotonic() + WAIT_S
            while session_members(self.worker_pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        self.kill()

    def kill(self) -> None:
        for group in (self.process.pid if self.process else None, self.worker_pid):
            if group is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
        if self.worker_pid is not None:
            for pid in session_members(self.worker_pid):  # in case one left the group
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=WAIT_S)
        self.process, self.worker_pid = None, None

    def log_text(self) -> str:
        """What the running processes have logged (not those of an earlier start)."""
        with self.log.open("rb") as fh:
            fh.seek(self.log_start)
            return fh.read().decode(errors="replace")

    def login(self) -> dict[str, str]:
        """Headers signed in as the first admin. The first sign-in (admin/admin) chooses a
        new password, as a newcomer must before anything else; later ones use it."""
        response = httpx.post(
            f"{self.base}/api/auth/login",
            json={"username": "admin", "password": self.password},
            timeout=WAIT_S,
        )
        assert response.status_code == 200, response.text
        headers = {"Authorization": f"Bearer {response.json()['token']}"}
        if response.json()["mustChangePassword"]:
            changed = httpx.post(
                f"{self.base}/api/auth/change-password",
                json={"currentPassword": self.password, "newPassword": LIVE_PASSWORD},
                headers=headers,
                timeout=WAIT_S,
            )
            assert changed.status_code == 200, changed.text
            self.password = LIVE_PASSWORD
        return headers

    def db(self, sql: str, *params: Any) -> Any:
        """Read the Job table directly (what the API does not show: attempts)."""
        connection = sqlite3.connect(self.data_dir / "pixelsmith.sqlite3", timeout=20)
        try:
            return connection.execute(sql, params).fetchone()
        finally:
            connection.close()


def proc_stat(pid: int) -> list[str]:
    """/proc/<pid>/stat after "pid (comm)": state, ppid, ... (comm may hold spaces and
    parentheses). OSError when the process is gone."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def session_members(session: int) -> list[int]:
    found = subprocess.run(["pgrep", "-s", str(session)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def wait_until(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_log(stack: Stack, pattern: str) -> re.Match[str]:
    return wait_until(lambda: re.search(pattern, stack.log_text()), f"log line {pattern!r}")


@contextmanager
def running_stack(data_dir: Path, **env: str) -> Iterator[Stack]:
    """A fresh install in `data_dir` (migrated, admin/admin), web + worker started; always
    killed afterwards, the worker's own session included."""
    stack = Stack(data_dir, data_dir / "server.log", **env)
    try:
        stack.manage("migrate", "--noinput")
        stack.manage("ensure_admin")
        stack.start()
        yield stack
    finally:
        stack.kill()
