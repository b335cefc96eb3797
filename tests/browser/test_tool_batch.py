"""The tool page with several files: a batch and its ZIP, cancelling a running batch, and a
reload in the middle of a job that finds the job again from the URL."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import pyvips
from playwright.sync_api import Page, expect

from tests.badfiles import FIXTURES
from tests.browser import api
from tests.browser.conftest import UPLOAD_LIMIT_MB, audit_page
from tests.live.stack import Stack

PHOTO = FIXTURES / "photo.jpg"  # 600 x 400


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    """A 48-megapixel JPEG of smooth bands (under 1 MB, so that several fit in one request
    under the 8 MB limit): rotating it takes the worker a few seconds."""
    xyz = pyvips.Image.xyz(8000, 6000)
    x, y = xyz[0], xyz[1]
    image = ((x / 16) % 255).bandjoin([(y / 12) % 255, ((x + y) / 28) % 255])
    return image.cast("uchar").write_to_buffer(".jpg", Q=70)


def photos(count: int, data: bytes, stem: str = "photo") -> list[dict[str, Any]]:
    return [
        {"name": f"{stem}-{i}.jpg", "mimeType": "image/jpeg", "buffer": data} for i in range(count)
    ]


def job_id_of(page: Page) -> str:
    match = re.search(r"job=([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def test_a_five_file_batch_gives_a_zip_of_five_images(
    admin_page: Page, artifacts: Path, tmp_path: Path
) -> None:
    page = admin_page
    page.goto("/tools/resize")
    page.get_by_label("Images").set_input_files(photos(5, PHOTO.read_bytes()))
    page.get_by_label("Width", exact=True).fill("64")
    run = page.get_by_role("button", name="Run on 5 files", exact=True)
    expect(run).to_be_visible()
    run.click()

    download_link = page.get_by_role("link", name="Download", exact=True)
    expect(download_link).to_be_visible(timeout=60_000)
    expect(page.get_by_text("5 of 5 files done, 0 failed")).to_be_visible()
    with page.expect_download() as info:
        download_link.click()
    saved = tmp_path / "batch.zip"
    info.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        images = [n for n in archive.namelist() if n != "manifest.json"]
        assert len(images) == 5
        for name in images:
            image = pyvips.Image.new_from_buffer(archive.read(name), "")
            assert image.width == 64
    audit_page(page, artifacts, "tool-batch-result")


def test_failed_files_of_a_batch_are_listed_with_their_error(admin_page: Page) -> None:
    page = admin_page
    page.goto("/tools/resize")
    good = photos(2, PHOTO.read_bytes())
    bad = {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": PHOTO.read_bytes()[:2000]}
    page.get_by_label("Images").set_input_files([*good, bad])
    page.get_by_label("Width", exact=True).fill("64")
    page.get_by_role("button", name="Run on 3 files", exact=True).click()
    expect(page.get_by_role("link", name="Download", exact=True)).to_be_visible(timeout=60_000)
    failures = page.locator(".failed-files")
    expect(failures).to_contain_text("broken.jpg")
    expect(page.get_by_text("2 of 3 files done, 1 failed")).to_be_visible()


def test_cancel_stops_a_running_batch(
    admin_page: Page, big_jpeg: bytes, live: Stack, admin_headers: dict[str, str]
) -> None:
    page = admin_page
    page.goto("/tools/rotate")
    page.get_by_label("Images").set_input_files(photos(8, big_jpeg, "slow"))
    page.get_by_role("spinbutton", name="Angle").fill("45")
    page.get_by_role("button", name="Run on 8 files", exact=True).click()
    cancel = page.get_by_role("button", name="Cancel", exact=True)
    expect(cancel).to_be_visible(timeout=60_000)
    job_id = job_id_of(page)
    # Each file's status shows as it finishes, while the batch still runs.
    finished = page.get_by_role("list", name="Files finished so far").get_by_role("listitem")
    expect(finished.first).to_contain_text("slow", timeout=60_000)
    expect(finished.first).to_contain_text("Done")
    cancel.click()
    expect(page.get_by_text("Cancelled", exact=True)).to_be_visible(timeout=60_000)
    job = api.get(f"{live.base}/api/v1/jobs/{job_id}", headers=admin_headers).json()
    assert job["status"] == "cancelled"


def test_a_batch_larger_than_one_request_may_be_runs_from_staged_files(
    admin_page: Page, big_jpeg: bytes, live: Stack, admin_headers: dict[str, str]
) -> None:
    """12 files together exceed the 8 MB request limit: each goes in a request of its own
    (POST /api/v1/uploads), then the batch names them."""
    files = photos(12, big_jpeg, "many")
    assert len(big_jpeg) * 12 > UPLOAD_LIMIT_MB * 1024 * 1024
    page = admin_page
    page.goto("/tools/resize")
    page.get_by_label("Images").set_input_files(files)
    page.get_by_role("spinbutton", name="Width").fill("100")
    page.get_by_role("button", name="Run on 12 files", exact=True).click()
    download_link = page.get_by_role("link", name="Download", exact=True)
    expect(download_link).to_be_visible(timeout=120_000)
    with page.expect_download() as info:
        download_link.click()
    archive = zipfile.ZipFile(info.value.path())
    images = [n for n in archive.namelist() if n != "manifest.json"]
    assert len(images) == 12
    assert pyvips.Image.new_from_buffer(archive.read(images[0]), "").width == 100


def test_a_reload_during_a_job_recovers_it_from_the_url(admin_page: Page, big_jpeg: bytes) -> None:
    page = admin_page
    page.goto("/tools/rotate")
    page.get_by_label("Images").set_input_files(photos(4, big_jpeg, "reload"))
    page.get_by_role("spinbutton", name="Angle").fill("45")
    page.get_by_role("button", name="Run on 4 files", exact=True).click()
    expect(page.get_by_role("button", name="Cancel", exact=True)).to_be_visible(timeout=60_000)
    job_id = job_id_of(page)
    page.reload()  # as if the connection had dropped: the page only has the URL
    assert job_id_of(page) == job_id
    expect(page.get_by_role("link", name="Download", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("4 of 4 files done, 0 failed")).to_be_visible()
    zipped = page.get_by_role("link", name="Download", exact=True).get_attribute("href")
    assert zipped == f"/api/v1/jobs/{job_id}/download"
    body = page.request.get(zipped).body()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".jpg")]) == 4


def test_library_files_chosen_in_the_dialog_run_as_a_batch_and_get_new_versions(
    user_page: Page, artifacts: Path
) -> None:
    page = user_page
    page.goto("/tools/resize")
    for name in ("first-pick.jpg", "second-pick.jpg"):  # uploaded as this user, in the page
        status = page.evaluate(
            """async ([name, bytes]) => {
                const form = new FormData();
                const file = new File([new Uint8Array(bytes)], name, { type: "image/jpeg" });
                form.append("files", file);
                const token = document.querySelector('meta[name="csrf-token"]').content;
                const headers = { "X-CSRFToken": token };
                const init = { method: "POST", body: form, headers };
                const answer = await fetch("/api/v1/upload", init);
                return answer.status;
            }""",
            [name, list(PHOTO.read_bytes())],
        )
        assert status == 201
    page.goto("/tools/resize")
    page.get_by_role("button", name="From library").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Select first-pick.jpg").click()
    dialog.get_by_role("button", name="Select second-pick.jpg").click()
    audit_page(page, artifacts, "tool-library-dialog")
    dialog.get_by_role("button", name="Use selected").click()
    page.get_by_label("Width", exact=True).fill("90")
    page.get_by_role("button", name="Run on 2 files", exact=True).click()
    expect(page.get_by_text("2 of 2 files done, 0 failed")).to_be_visible(timeout=60_000)
    files = page.request.get("/api/v1/files?pageSize=50").json()["files"]
    picked = [f for f in files if f["name"] in ("first-pick.jpg", "second-pick.jpg")]
    assert len(picked) == 2 and all(f["versionCount"] == 2 and f["width"] == 90 for f in picked)
