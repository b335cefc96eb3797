"""A full disk, for real: DATA_DIR (SQLite database included) on a small tmpfs.

Found from outside: a batch that filled the disk left its job "processing" forever
(SQLite's own "disk is full" came first), sign-in and tools answered 500 for everyone,
and the automatic retry filled the disk again. Now the job fails DISK_FULL and frees
what it wrote, the server keeps answering, and new work is refused with 507 while less
than MIN_FREE_DISK_MB is free.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips

from tests.live.stack import WAIT_S, Stack, running_stack, wait_until

pytestmark = pytest.mark.live

DISK_MB = 48
RESERVE_MB = 6


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A DISK_MB tmpfs (this needs root, as CI on these machines has)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs for the full-disk test (run as root): {done.stderr}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def stack(small_disk: Path) -> Iterator[Stack]:
    with running_stack(small_disk / "data", MIN_FREE_DISK_MB=str(RESERVE_MB)) as stack:
        yield stack


def noisy_jpeg(width: int = 1600, height: int = 1200) -> bytes:
    """Noise does not compress: as PNG each of these is about 5.6 MB (0.7 MB as JPEG)."""
    image = pyvips.Image.gaussnoise(width, height, sigma=60, mean=128).cast("uchar")
    return image.bandjoin([image, image.rot180()]).jpegsave_buffer(Q=50)


def post(stack: Stack, auth: dict[str, str], path: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{stack.base}{path}", headers=auth, timeout=WAIT_S, **kwargs)


def resize(stack: Stack, auth: dict[str, str], jpeg: bytes) -> httpx.Response:
    files = {"file": ("s.jpg", io.BytesIO(jpeg), "image/jpeg")}
    return post(
        stack, auth, "/api/v1/tools/resize", files=files, data={"settings": '{"width": 50}'}
    )


def job_of(stack: Stack, auth: dict[str, str], job_id: str) -> dict[str, Any]:
    response = httpx.get(f"{stack.base}/api/v1/jobs/{job_id}", headers=auth, timeout=WAIT_S)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_batch_that_fills_the_disk_fails_cleanly_and_the_server_keeps_working(
    stack: Stack,
):
    auth = stack.login()
    photo = noisy_jpeg()
    files = [("files", (f"p{i}.jpg", photo, "image/jpeg")) for i in range(12)]
    settings = {"settings": '{"format": "png"}', "async": "true"}

    submitted = post(stack, auth, "/api/v1/tools/convert/batch", files=files, data=settings)

    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["jobId"]
    ended = wait_until(
        lambda: (
            (job := job_of(stack, auth, job_id))["status"] != "processing"
            and job["status"] != "queued"
            and job
        ),
        "the batch to end",
    )
    assert ended["status"] == "failed"
    assert ended["error"]["code"] == "DISK_FULL"
    # Recorded by the worker itself (it freed its output first), not by the upkeep task
    # finding the job lost a minute later.
    assert "result could not be written" in ended["error"]["message"]
    job_dir = stack.data_dir / "jobs" / job_id
    assert not (job_dir / "work").exists() and not (job_dir / "out").exists()

    # The server answers everyone again: sign-in, a tool call, the job list.
    auth = stack.login()
    resized = resize(stack, auth, noisy_jpeg(200, 150))
    assert resized.status_code == 200, resized.text
    time.sleep(1)  # the upkeep would have requeued it by now if it were going to
    assert job_of(stack, auth, job_id)["status"] == "failed"


def test_new_work_is_refused_with_507_while_the_reserve_is_reached(stack: Stack):
    auth = stack.login()
    filler = stack.data_dir.parent / "filler"  # leaves 2 MB less than the reserve free
    leave = (RESERVE_MB - 2) * 1024 * 1024
    filler.write_bytes(b"\0" * max(shutil.disk_usage(stack.data_dir).free - leave, 0))

    small = noisy_jpeg(200, 150)
    refused = resize(stack, auth, small)
    assert refused.status_code == 507, refused.text
    assert refused.json()["code"] == "DISK_FULL"
    assert "MIN_FREE_DISK_MB" in refused.json()["error"]
    upload = post(stack, auth, "/api/v1/upload", files={"files": ("s.jpg", small, "image/jpeg")})
    assert upload.status_code == 507 and upload.json()["code"] == "DISK_FULL"
    assert stack.login()  # signing in still works: the reserve is there for it

    filler.unlink()
    accepted = resize(stack, auth, small)
    assert accepted.status_code == 200, accepted.text


def test_an_upload_onto_a_full_disk_is_507_not_500(stack: Stack):
    """Django spools a large upload to a temporary file in DATA_DIR before any view runs;
    on a full disk that write fails."""
    auth = stack.login()
    filler = stack.data_dir.parent / "filler"
    with filler.open("wb") as out, pytest.raises(OSError):
        while True:  # until the disk is full
            out.write(b"\0" * (1024 * 1024))
    big = noisy_jpeg(4000, 3000)  # over Django's 2.5 MB in-memory upload limit
    assert len(big) > 2.5 * 1024 * 1024

    response = post(stack, auth, "/api/v1/upload", files={"files": ("big.jpg", big, "image/jpeg")})

    assert response.status_code == 507, response.text
    assert response.json()["code"] == "DISK_FULL"
    filler.unlink()
