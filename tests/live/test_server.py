"""The embedded default as `make run` starts it: migrate, first admin, uvicorn + worker.

Runs the real ASGI server and the django-q2 worker as child processes on a free port
with their own DATA_DIR (SQLite), then talks to them over real HTTP.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import pyvips

from tests.badfiles import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.live


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen]]:
    data_dir = tmp_path_factory.mktemp("live-data")
    port = free_port()
    env = server_env(data_dir, port)
    for command in (["migrate", "--noinput"], ["ensure_admin"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    process = subprocess.Popen(
        ["bash", "scripts/serve.sh"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def login(base: str) -> str:
    response = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": "admin"})
    assert response.status_code == 200
    assert response.json()["user"]["mustChangePassword"] is True
    return response.json()["token"]


def test_a_newcomer_logs_in_as_admin_and_resizes_an_image(server):
    base, _ = server
    token = login(base)
    with (FIXTURES / "photo.jpg").open("rb") as fh:
        response = httpx.post(
            f"{base}/api/v1/tools/resize",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("photo.jpg", fh, "image/jpeg")},
            data={"settings": '{"width": 200}'},
            timeout=30,
        )
    assert response.status_code == 200
    assert response.headers["x-job-id"]
    assert pyvips.Image.new_from_buffer(response.content, "").width == 200


def test_an_oversize_upload_is_refused_before_it_is_read(server):
    base, _ = server
    body = b"x" * (3 * 1024 * 1024)
    response = httpx.post(
        f"{base}/api/v1/tools/resize",
        content=body,
        headers={"Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "FILE_TOO_LARGE"


def test_a_chunked_upload_is_cut_off_at_the_limit(server):
    base, _ = server

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * (128 * 1024)  # 5 MB in all, no Content-Length

    response = httpx.post(
        f"{base}/api/v1/tools/resize",
        content=chunks(),
        headers={"Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "FILE_TOO_LARGE"


def test_unknown_routes_answer_json_and_docs_are_served(server):
    base, _ = server
    missing = httpx.get(f"{base}/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert httpx.get(f"{base}/api/docs").status_code == 200
    assert "resize" in httpx.get(f"{base}/llms.txt").text


def test_ctrl_c_stops_the_server_and_the_worker(server):
    base, process = server
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    process.wait(timeout=30)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    worker = re.search(r"worker pid (\d+)", output)
    assert worker, output[-2000:]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/api/v1/health", timeout=2)
    # The worker runs in its own session (see scripts/serve.sh): none of it may survive.
    for flag, ident in (("-g", process.pid), ("-s", int(worker.group(1)))):
        leftovers = subprocess.run(["pgrep", flag, str(ident)], capture_output=True, text=True)
        assert leftovers.stdout.strip() == "", output[-2000:]
