"""The library in a real browser: upload, a tool's result as a new version with its
provenance, search/format/sort/pages, multi-select download and delete, and privacy."""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyvips
from playwright.sync_api import Page, expect

from tests.browser import api
from tests.browser.conftest import UPLOAD_LIMIT_MB, audit_page
from tests.live.stack import Stack


def image_bytes(
    width: int, height: int, suffix: str = ".png", rgb: tuple = (40, 120, 200)
) -> bytes:
    """A small solid-colour image in the format of `suffix`."""
    image = pyvips.Image.black(width, height).new_from_image(list(rgb)).cast("uchar")
    return image.write_to_buffer(suffix)


def upload(
    live: Stack, headers: dict[str, str], files: list[tuple[str, bytes]]
) -> list[dict[str, Any]]:
    """Files added to the library through the API, as it answers them."""
    response = api.post(
        f"{live.base}/api/v1/upload",
        headers=headers,
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()["files"]


def card_names(page: Page) -> list[str]:
    return page.locator(".lib-card .lib-name").all_inner_texts()


def test_an_upload_run_through_a_tool_shows_its_new_version_with_provenance(
    admin_page: Page, live: Stack, admin_headers: dict[str, str], tmp_path: Path, artifacts: Path
) -> None:
    page = admin_page
    name = f"lib-{uuid.uuid4().hex[:8]}.png"
    (tmp_path / name).write_bytes(image_bytes(120, 80))
    page.goto("/library")
    page.get_by_label("Images").set_input_files(str(tmp_path / name))
    expect(page.get_by_role("link", name=name)).to_be_visible()  # the grid was refreshed
    found = api.get(f"{live.base}/api/v1/files", params={"search": name}, headers=admin_headers)
    file_id = found.json()["files"][0]["id"]

    ran = api.post(
        f"{live.base}/api/v1/tools/resize",
        headers=admin_headers,
        data={"settings": json.dumps({"fileId": file_id, "width": 60})},
        timeout=60,
    )
    assert ran.status_code == 200, ran.text

    page.get_by_role("link", name=name).click()
    expect(page).to_have_url(re.compile(f"/library/{file_id}$"))
    latest = page.locator("#version-2")
    expect(latest.get_by_role("heading", name="Version 2")).to_be_visible()
    expect(latest.get_by_role("link", name="Resize", exact=True)).to_have_attribute(
        "href", "/tools/resize"
    )
    expect(latest.locator(".lib-settings-list")).to_contain_text("width")
    expect(latest.locator(".lib-settings-list")).to_contain_text("60")
    expect(page.locator("#version-1")).to_contain_text("Uploaded")
    # Newest first: version 2 comes before version 1.
    assert page.locator(".lib-version").first.get_attribute("id") == "version-2"

    rerun = latest.get_by_role("link", name="Re-run recipe of version 2")
    query = parse_qs(urlparse(rerun.get_attribute("href") or "").query)
    assert urlparse(rerun.get_attribute("href") or "").path == "/tools/resize"
    assert query["file"] == [file_id]
    assert json.loads(query["settings"][0])["width"] == 60

    with page.expect_download() as download:
        latest.get_by_role("link", name="Download version 2").click()
    result = pyvips.Image.new_from_file(download.value.path())
    assert (result.width, result.height) == (60, 40)
    with page.expect_download() as original:
        page.locator("#version-1").get_by_role("link", name="Download version 1").click()
    assert pyvips.Image.new_from_file(original.value.path()).width == 120

    page.get_by_role("link", name="Preview version 1").click()
    expect(page.get_by_role("heading", name="Version 1", exact=True).first).to_be_visible()
    page.goto(f"/library/{file_id}")
    audit_page(page, artifacts, "library-file")
    page.goto("/library")
    audit_page(page, artifacts, "library")


def test_open_in_a_tool_leads_to_the_tool_page_with_the_file(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    stored = upload(
        live, admin_headers, [(f"open-{uuid.uuid4().hex[:8]}.png", image_bytes(30, 30))]
    )
    admin_page.goto(f"/library/{stored[0]['id']}")
    admin_page.get_by_label("Tool", exact=True).select_option("rotate")
    admin_page.get_by_role("button", name="Open", exact=True).click()
    expect(admin_page).to_have_url(re.compile(rf"/tools/rotate\?file={stored[0]['id']}$"))


def test_search_format_sort_and_pages(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    prefix = f"pg{uuid.uuid4().hex[:6]}"
    files = [(f"{prefix}-{i:02d}.png", image_bytes(8 + i, 8)) for i in range(26)]
    upload(live, admin_headers, [*files, (f"{prefix}-photo.jpg", image_bytes(10, 10, ".jpg"))])
    page = admin_page
    page.goto("/library")
    page.get_by_label("Search files").fill(prefix)
    expect(page).to_have_url(re.compile(rf"q={prefix}"))  # applied as typed, URL kept
    expect(page.locator(".lib-card")).to_have_count(24)
    expect(page.get_by_text("27 files")).to_be_visible()

    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(".lib-card")).to_have_count(3)
    page.get_by_role("link", name="Page 1", exact=True).click()
    expect(page.locator(".lib-card")).to_have_count(24)

    page.get_by_label("Sort").select_option(label="Name A–Z")
    expect(page.locator(".lib-card .lib-name").first).to_have_text(f"{prefix}-00.png")
    page.get_by_label("Sort").select_option(label="Name Z–A")
    expect(page.locator(".lib-card .lib-name").first).to_have_text(f"{prefix}-photo.jpg")

    page.get_by_label("Format").select_option(label="JPEG")
    expect(page.locator(".lib-card")).to_have_count(1)
    assert card_names(page) == [f"{prefix}-photo.jpg"]

    # Plain links and a reload keep the query: the page is rendered by the server.
    page.goto(f"/library?q={prefix}&sort=name&page=2")
    expect(page.locator(".lib-card")).to_have_count(3)
    assert card_names(page)[-1] == f"{prefix}-photo.jpg"
    page.goto(f"/library?q={prefix}-nothing")
    expect(page.get_by_role("heading", name="No file matches")).to_be_visible()


def test_selected_files_download_and_delete(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    prefix = f"sel{uuid.uuid4().hex[:6]}"
    stored = upload(
        live, admin_headers, [(f"{prefix}-{i}.png", image_bytes(20 + i, 20)) for i in range(3)]
    )
    ids = {f["name"]: f["id"] for f in stored}
    page = admin_page
    page.goto(f"/library?q={prefix}")
    page.get_by_label(f"Select {prefix}-0.png").check()
    page.get_by_label(f"Select {prefix}-1.png").check()
    expect(page.get_by_text("2 selected")).to_be_visible()

    # Two files: one ZIP of their latest versions.
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download selected").click()
    archive = zipfile.ZipFile(caught.value.path())
    assert sorted(archive.namelist()) == [f"{prefix}-0.png", f"{prefix}-1.png"]
    widths = sorted(
        pyvips.Image.new_from_buffer(archive.read(n), "").width for n in archive.namelist()
    )
    assert widths == [20, 21]

    page.get_by_role("button", name="Delete selected").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"{prefix}-0.png")
    dialog.get_by_role("button", name="Delete").click()
    expect(page.locator(".lib-card")).to_have_count(1)
    for name, expected in (
        (f"{prefix}-0.png", 404),
        (f"{prefix}-1.png", 404),
        (f"{prefix}-2.png", 200),
    ):
        answer = api.get(f"{live.base}/api/v1/files/{ids[name]}", headers=admin_headers)
        assert answer.status_code == expected, name


def test_cancelling_the_delete_keeps_the_files(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    prefix = f"keep{uuid.uuid4().hex[:6]}"
    stored = upload(live, admin_headers, [(f"{prefix}.png", image_bytes(9, 9))])
    admin_page.goto(f"/library/{stored[0]['id']}")
    admin_page.get_by_role("button", name="Delete file").click()
    admin_page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert (
        api.get(f"{live.base}/api/v1/files/{stored[0]['id']}", headers=admin_headers).status_code
        == 200
    )
    admin_page.get_by_role("button", name="Delete file").click()
    admin_page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(admin_page).to_have_url(re.compile(r"/library$"))
    assert (
        api.get(f"{live.base}/api/v1/files/{stored[0]['id']}", headers=admin_headers).status_code
        == 404
    )


def test_a_file_over_the_limit_is_refused_before_upload(
    admin_page: Page, live: Stack, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    name = f"huge-{uuid.uuid4().hex[:6]}.png"
    (tmp_path / name).write_bytes(b"\0" * (UPLOAD_LIMIT_MB * 1024 * 1024 + 1))
    requests: list[str] = []
    admin_page.on(
        "request", lambda r: requests.append(r.url) if "/api/v1/upload" in r.url else None
    )
    admin_page.goto("/library")
    admin_page.get_by_label("Images").set_input_files(str(tmp_path / name))
    expect(admin_page.locator("[data-upload-errors]")).to_contain_text(
        f"{name} is larger than the {UPLOAD_LIMIT_MB} MB upload limit"
    )
    assert requests == []


def test_a_non_image_is_refused_with_the_servers_message(admin_page: Page, tmp_path: Path) -> None:
    name = f"notes-{uuid.uuid4().hex[:6]}.png"
    (tmp_path / name).write_text("not an image at all")
    admin_page.goto("/library")
    admin_page.get_by_label("Images").set_input_files(str(tmp_path / name))
    expect(admin_page.locator("[data-upload-list]")).to_contain_text(name)
    expect(admin_page.locator("[data-upload-list] .error-text")).to_be_visible()
    expect(admin_page.get_by_role("link", name=name)).to_have_count(0)


def test_another_users_file_is_not_found_and_their_library_is_their_own(
    user_page: Page, live: Stack, admin_headers: dict[str, str], tmp_path: Path, artifacts: Path
) -> None:
    secret = upload(
        live, admin_headers, [(f"admin-only-{uuid.uuid4().hex[:6]}.png", image_bytes(12, 12))]
    )[0]
    page = user_page
    response = page.goto(f"/library/{secret['id']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert page.goto(f"/library/{secret['id']}/open?tool=resize").status == 404  # type: ignore[union-attr]

    page.goto("/library")
    expect(page.get_by_role("heading", name="Your library is empty")).to_be_visible()
    audit_page(page, artifacts, "library-empty")
    mine = f"mine-{uuid.uuid4().hex[:6]}.png"
    (tmp_path / mine).write_bytes(image_bytes(16, 16))
    page.get_by_label("Images").set_input_files(str(tmp_path / mine))
    expect(page.get_by_role("link", name=mine)).to_be_visible()
    expect(page.locator(".lib-card")).to_have_count(1)
    expect(page.get_by_role("link", name=secret["name"])).to_have_count(0)
