"""video-upscale against the real stack: a worker SIGKILLed mid-video, the job requeued by
the upkeep task, and the retry resuming after the last finished segment (not from the
start), ending with every frame, the timestamps and the audio of the input."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.stack import (
    STALE_S,
    WAIT_S,
    Stack,
    running_stack,
    session_members,
    wait_for_log,
    wait_until,
)
from tests.shipped_models import shipped_models_dir
from tests.tools import video_support as vs

pytestmark = pytest.mark.live

FRAMES = 96  # 12 s at 8 fps, 12 segments of 1 s (8 frames)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("video-live")
    env = {"MODELS_DIR": str(shipped_models_dir()), "VIDEO_SEGMENT_SECONDS": "1"}
    with running_stack(data, **env) as stack:
        yield stack


def job(stack: Stack, auth: dict[str, str], job_id: str) -> dict[str, Any]:
    response = httpx.get(f"{stack.base}/api/v1/jobs/{job_id}", headers=auth, timeout=WAIT_S)
    assert response.status_code == 200, response.text
    return response.json()


def frame_reached(data: dict[str, Any]) -> int:
    found = re.match(r"frame (\d+)/", data.get("message") or "")
    return int(found.group(1)) if found else 0


def test_a_killed_worker_resumes_the_video_after_its_last_finished_segment(stack, tmp_path):
    auth = stack.login()
    clip = vs.make(tmp_path, "clip.mp4", width=96, height=72, frames=FRAMES)
    with clip.open("rb") as fh:
        response = httpx.post(
            f"{stack.base}/api/v1/tools/video-upscale",
            headers={**auth, "Prefer": "respond-async"},
            files={"file": ("clip.mp4", fh, "video/mp4")},
            data={"settings": json.dumps({"preset": "fast"})},
            timeout=WAIT_S,
        )
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]

    process = wait_for_log(stack, rf"(Process-\w+) processing job-{job_id}-1").group(1)
    pid = int(wait_for_log(stack, rf"{process} ready for work at (\d+)").group(1))
    assert pid in session_members(stack.worker_pid or -1)
    running = wait_until(
        lambda: (data := job(stack, auth, job_id)) and frame_reached(data) >= 20 and data,
        "frame 20",
    )
    assert frame_reached(running) < FRAMES, "the job ended before the kill"
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), "the worker to die")
    time.sleep(max(0.0, killed_at + STALE_S + 0.5 - time.monotonic()))
    stack.manage("shell", "-c", "from apps.jobs.maintenance import recover_lost_jobs as r; r()")

    done = wait_until(
        lambda: (d := job(stack, auth, job_id))["status"] not in ("queued", "processing") and d,
        "the retry to finish",
        timeout=3 * WAIT_S,
    )
    assert done["status"] == "completed", done
    info = done["result"]["info"]
    assert info["resumedAfterFrames"] >= 16 and info["resumedAfterFrames"] % 8 == 0
    assert info["frames"] == FRAMES
    assert stack.db("SELECT attempts FROM jobs_job WHERE id = ?", job_id.replace("-", "")) == (2,)
    download = httpx.get(f"{stack.base}{done['downloadUrl']}", headers=auth, timeout=WAIT_S)
    assert download.status_code == 200
    assert download.headers["content-type"] == "video/mp4"
    result = tmp_path / "result.mp4"
    result.write_bytes(download.content)
    before, after = vs.probe(clip), vs.probe(result)
    assert (after.width, after.height, after.frames) == (192, 144, FRAMES)
    assert after.pts_seconds == before.pts_seconds  # no seam, no gap, no repeated frame
    assert after.audio_seconds == pytest.approx(before.audio_seconds, abs=1 / 8)
