"""The embedded default as `make run` starts it: migrate, first admin, uvicorn + worker.

Runs the real ASGI server and the django-q2 worker as child processes on a free port
with their own DATA_DIR (SQLite), then talks to them over real HTTP.
"""

import os
import signal
import subprocess
from collections.abc import Iterator

import httpx
import pytest
import pyvips

from tests.badfiles import FIXTURES
from tests.live.stack import LIVE_PASSWORD, Stack, running_stack, session_members

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("live-data"), MAX_UPLOAD_SIZE_MB="1") as stack:
        yield stack


def resize(base: str, token: str) -> httpx.Response:
    with (FIXTURES / "photo.jpg").open("rb") as fh:
        return httpx.post(
            f"{base}/api/v1/tools/resize",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("photo.jpg", fh, "image/jpeg")},
            data={"settings": '{"width": 200}'},
            timeout=30,
        )


def test_a_newcomer_logs_in_as_admin_chooses_a_password_and_resizes_an_image(server):
    base = server.base
    first = httpx.post(f"{base}/api/auth/login", json={"username": "admin", "password": "admin"})
    assert first.status_code == 200
    assert first.json()["mustChangePassword"] is True
    token = first.json()["token"]
    assert resize(base, token).json()["code"] == "PASSWORD_CHANGE_REQUIRED"

    changed = httpx.post(
        f"{base}/api/auth/change-password",
        headers={"Authorization": f"Bearer {token}"},
        json={"currentPassword": "admin", "newPassword": LIVE_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    server.password = LIVE_PASSWORD
    response = resize(base, token)
    assert response.status_code == 200
    assert response.headers["x-job-id"]
    assert pyvips.Image.new_from_buffer(response.content, "").width == 200


def test_an_oversize_upload_is_refused_before_it_is_read(server):
    base = server.base
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
    base = server.base

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
    base = server.base
    missing = httpx.get(f"{base}/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert httpx.get(f"{base}/api/docs").status_code == 200
    assert "resize" in httpx.get(f"{base}/llms.txt").text


def test_ctrl_c_stops_the_server_and_the_worker(server):
    assert server.process is not None and server.worker_pid is not None
    os.killpg(server.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
    server.process.wait(timeout=30)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.base}/api/v1/health", timeout=2)
    # The worker runs in its own session (see scripts/serve.sh): none of it may survive.
    assert session_members(server.worker_pid) == [], server.log_text()[-2000:]
    group = subprocess.run(["pgrep", "-g", str(server.process.pid)], capture_output=True, text=True)
    assert group.stdout.strip() == "", server.log_text()[-2000:]
