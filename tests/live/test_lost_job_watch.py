"""A worker killed mid-job is noticed by the other worker processes' watch within
seconds: no scheduled upkeep runs here (its minute schedule is removed), and nobody runs
it by hand. JOB_HEARTBEAT_S=1 and JOB_STALE_S=5 (tests/live/stack.py): a watch every 5 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import pyvips

from tests.live.stack import STALE_S, Stack, running_stack, wait_until
from tests.live.test_jobs_live import finished, job, kill_worker_mid_job, submit_batch

pytestmark = pytest.mark.live

WATCH_S = 5  # apps.jobs.watchdog.watch_s() for JOB_HEARTBEAT_S=1


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("watch-live")) as stack:
        stack.manage(
            "shell",
            "-c",
            "from django_q.models import Schedule; Schedule.objects.all().delete()",
        )
        yield stack


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    """12 MP of texture: each file of the batch takes about a second to rotate."""
    xyz = pyvips.Image.xyz(4000, 3000)
    image = ((xyz[0] / 16) % 255).bandjoin([(xyz[1] / 12) % 255, (xyz[0] / 28) % 255])
    image = image + pyvips.Image.gaussnoise(4000, 3000, sigma=12)
    return image.cast("uchar").write_to_buffer(".jpg", Q=85)


def test_a_lost_job_is_requeued_by_the_watch_within_seconds(stack, jpeg):
    auth = stack.login()
    job_id = submit_batch(stack, auth, jpeg, 16)

    kill_worker_mid_job(stack, auth, job_id, attempt=1)
    killed_at = time.monotonic()

    def requeued() -> bool:
        state = job(stack, auth, job_id)
        return (
            state["status"] != "processing"
            or "requeued" in state["message"]
            or (
                stack.db("SELECT attempts FROM jobs_job WHERE id = ?", job_id.replace("-", ""))[0]
                == 2
            )
        )

    wait_until(requeued, "the watch to requeue the lost job", timeout=STALE_S + 3 * WATCH_S + 10)
    noticed_s = time.monotonic() - killed_at
    assert noticed_s <= STALE_S + 2 * WATCH_S + 5, noticed_s  # not the minute schedule
    data = finished(stack, auth, job_id)
    assert data["status"] == "completed", data
    assert data["items"] == {"total": 16, "done": 16, "failed": 0}
