"""The jobs page in a real browser: a finished job's download, a failed job's error, live
progress and cancel of a running batch, the queue summary, and who sees which jobs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyvips
from playwright.sync_api import Page, expect

from tests.browser import api
from tests.browser.conftest import audit_page
from tests.live.stack import Stack


def png(width: int, height: int) -> bytes:
    return (
        pyvips.Image.black(width, height)
        .new_from_image([200, 90, 30])
        .cast("uchar")
        .write_to_buffer(".png")
    )


def run_tool(
    live: Stack, headers: dict[str, str], tool: str, settings: dict[str, Any], image: bytes
) -> api.Response:
    return api.post(
        f"{live.base}/api/v1/tools/{tool}",
        headers=headers,
        files={"file": ("input.png", image, "image/png")},
        data={"settings": json.dumps(settings)},
        timeout=60,
    )


def job(live: Stack, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    return api.get(f"{live.base}/api/v1/jobs/{job_id}", headers=headers, timeout=30).json()


def test_a_completed_job_downloads_and_a_failed_one_shows_its_error(
    admin_page: Page, live: Stack, admin_headers: dict[str, str], artifacts: Path
) -> None:
    done = run_tool(live, admin_headers, "resize", {"width": 30}, png(90, 60))
    assert done.status_code == 200, done.text
    failed = run_tool(
        live,
        admin_headers,
        "crop",
        {"left": 5000, "top": 0, "width": 10, "height": 10},
        png(40, 40),
    )
    assert failed.status_code == 400, failed.text
    done_id, failed_id = done.headers["X-Job-Id"], failed.headers["X-Job-Id"]

    page = admin_page
    page.goto("/jobs")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    done_row = page.locator(f"#job-{done_id}")
    expect(done_row).to_contain_text("Resize")
    expect(done_row).to_contain_text("Done")
    expect(done_row).to_contain_text("admin")  # an admin sees the owner column
    with page.expect_download() as download:
        done_row.get_by_role("link", name="Download").click()
    result = pyvips.Image.new_from_file(download.value.path())
    assert (result.width, result.height) == (30, 20)

    failed_row = page.locator(f"#job-{failed_id}")
    expect(failed_row).to_contain_text("Failed")
    expect(failed_row).to_contain_text(job(live, admin_headers, failed_id)["error"]["message"])
    expect(failed_row.get_by_role("link", name="Download")).to_have_count(0)
    expect(failed_row.get_by_role("button", name="Cancel")).to_have_count(0)

    page.get_by_role("link", name="Failed", exact=True).click()
    expect(page).to_have_url(re.compile(r"/jobs\?status=failed$"))
    expect(page.locator(f"#job-{failed_id}")).to_be_visible()
    expect(page.locator(f"#job-{done_id}")).to_have_count(0)
    page.goto("/jobs")
    audit_page(page, artifacts, "jobs")


def test_a_running_batch_shows_live_progress_and_is_cancelled_from_the_page(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    # A batch that outlasts the clicks on any machine: 8 rotations of a 48-megapixel image
    # (smooth bands: under 1 MB each, so all fit the 8 MB request limit), two at a time.
    xyz = pyvips.Image.xyz(8000, 6000)
    x, y = xyz[0], xyz[1]
    bands = ((x / 16) % 255).bandjoin([(y / 12) % 255, ((x + y) / 28) % 255])
    image = bands.cast("uchar").write_to_buffer(".jpg", Q=70)
    submitted = api.post(
        f"{live.base}/api/v1/tools/rotate/batch",
        headers={**admin_headers, "Prefer": "respond-async"},
        files=[("files", (f"big-{i}.jpg", image, "image/jpeg")) for i in range(8)],
        data={"settings": json.dumps({"angle": 33})},
        timeout=60,
    )
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["jobId"]

    page = admin_page
    page.goto("/jobs")
    row = page.locator(f"#job-{job_id}")
    expect(row).to_contain_text("Batch")
    expect(row).to_have_attribute("data-status", "processing", timeout=30_000)
    expect(row.locator("[data-progress-text]")).to_contain_text(re.compile(r"/8"), timeout=30_000)
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator("[data-status-badge]")).to_have_text("Cancelled", timeout=60_000)
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    final = job(live, admin_headers, job_id)
    assert final["status"] == "cancelled"
    assert final["items"]["done"] < 8


def test_a_user_sees_only_their_own_jobs_and_the_queue(
    user_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    admins = run_tool(live, admin_headers, "resize", {"width": 10}, png(20, 20))
    page = user_page
    page.goto("/jobs")
    expect(page.get_by_role("heading", name="No jobs yet")).to_be_visible()
    expect(page.locator(f"#job-{admins.headers['X-Job-Id']}")).to_have_count(0)
    ran = page.evaluate(
        """async () => {
            const canvas = new OffscreenCanvas(24, 24);
            canvas.getContext("2d").fillRect(0, 0, 24, 24);
            const blob = await canvas.convertToBlob({type: "image/png"});
            const form = new FormData();
            form.append("file", blob, "tiny.png");
            form.append("settings", JSON.stringify({width: 12}));
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const headers = {"X-CSRFToken": token};
            const r = await fetch("/api/v1/tools/resize", {method: "POST", body: form, headers});
            return {status: r.status, job: r.headers.get("X-Job-Id")};
        }"""
    )
    assert ran["status"] == 200, ran
    page.reload()
    mine = page.locator(f"#job-{ran['job']}")
    expect(mine).to_contain_text("Done")
    expect(page.get_by_role("columnheader", name="Owner")).to_have_count(0)
    expect(page.locator("[data-queue-workers]")).to_have_text("2")  # WORKER_CONCURRENCY
    expect(page.locator("[data-queue-wait]")).not_to_have_text("—")  # filled from the API


def test_a_job_started_elsewhere_appears_without_a_reload(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    run_tool(live, admin_headers, "resize", {"width": 10}, png(20, 20))
    page = admin_page
    page.goto("/jobs")
    expect(page.locator("table[data-jobs] tbody tr").first).to_be_visible()
    later = run_tool(live, admin_headers, "resize", {"width": 11}, png(20, 20))
    row = page.locator(f"#job-{later.headers['X-Job-Id']}")
    expect(row).to_contain_text("Done", timeout=20_000)
    expect(page.locator("table[data-jobs] tbody tr").first).to_have_id(
        f"job-{later.headers['X-Job-Id']}"
    )
