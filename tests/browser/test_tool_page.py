"""The tool page with one file: run, result, download; the settings form and its errors;
bad input refused before upload; an AI tool without its model; a library file as input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyvips
from playwright.sync_api import Page, expect

from tests.badfiles import FIXTURES, text_as_jpeg
from tests.browser import api
from tests.browser.conftest import UPLOAD_LIMIT_MB, audit_page
from tests.live.stack import Stack

PHOTO = FIXTURES / "photo.jpg"  # 600 x 400


def jobs_of(live: Stack, headers: dict[str, str], username: str) -> list[dict[str, Any]]:
    """Every job the given user owns (the admin sees them all)."""
    answer = api.get(f"{live.base}/api/v1/jobs?pageSize=200", headers=headers)
    assert answer.status_code == 200, answer.text
    return [j for j in answer.json()["jobs"] if j["owner"] == username]


def choose(page: Page, *files: Any) -> None:
    page.get_by_label("Images").set_input_files(list(files))


def test_resize_one_image_then_download_it(
    admin_page: Page, artifacts: Path, tmp_path: Path
) -> None:
    page = admin_page
    page.goto("/tools/resize")
    expect(page.get_by_role("heading", name="Resize", exact=True)).to_be_visible()
    audit_page(page, artifacts, "tool-resize")
    choose(page, PHOTO)
    expect(page.get_by_role("img", name="photo.jpg")).to_be_visible()
    page.get_by_label("Width", exact=True).fill("150")
    page.get_by_role("button", name="Run", exact=True).click()

    download_link = page.get_by_role("link", name="Download", exact=True)
    expect(download_link).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(r"[?&]job=[0-9a-f-]{36}"))
    slider = page.get_by_role("slider", name="Before and after")
    expect(slider).to_have_attribute("aria-valuenow", "50")
    with page.expect_download() as info:
        download_link.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    image = pyvips.Image.new_from_file(str(saved))
    assert (image.width, image.height) == (150, 100)
    # The slider answers the keyboard; the recent tools list now starts with this one.
    slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuenow", "52")
    recent = page.evaluate("() => JSON.parse(localStorage.getItem('pixelsmith-recent:admin'))")
    assert recent[0] == "resize"
    audit_page(page, artifacts, "tool-resize-result")
    page.get_by_role("button", name="Side by side").click()
    expect(page.get_by_role("img", name="Before")).to_be_visible()
    expect(page.get_by_role("img", name="After")).to_be_visible()
    # Continue with another tool: the result is saved to the library and opened there.
    page.get_by_label("Continue with another tool").select_option(label="Rotate & Flip")
    page.get_by_role("button", name="Open", exact=True).click()
    expect(page).to_have_url(re.compile(r"/tools/rotate\?file=[0-9a-f-]{36}$"))
    expect(page.locator("[data-file-list]")).to_contain_text("photo_resize.jpg")


def test_a_setting_out_of_range_is_marked_and_nothing_is_sent(
    user_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    page = user_page
    page.goto("/tools/resize")
    choose(page, PHOTO)
    page.get_by_label("Width", exact=True).fill("99999")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("At most 16383")).to_be_visible()
    expect(page.get_by_label("Width", exact=True)).to_have_attribute("aria-invalid", "true")
    page.wait_for_timeout(500)
    assert jobs_of(live, admin_headers, page.username) == []  # type: ignore[attr-defined]


def test_a_non_image_and_a_file_over_the_limit_are_refused_before_upload(
    user_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    page = user_page
    page.goto("/tools/resize")
    choose(page, {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just words"})
    expect(
        page.get_by_role("alert").filter(has_text="notes.txt is not an image file")
    ).to_be_visible()
    big = {"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (9 * 1024 * 1024)}
    choose(page, big)
    limit = f"huge.jpg is larger than the {UPLOAD_LIMIT_MB} MB upload limit"
    expect(page.get_by_role("alert").filter(has_text=limit)).to_be_visible()
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Add an image first")).to_be_visible()
    page.wait_for_timeout(500)
    assert jobs_of(live, admin_headers, page.username) == []  # type: ignore[attr-defined]


def test_the_servers_message_is_shown_for_a_file_that_only_looks_like_an_image(
    user_page: Page,
) -> None:
    page = user_page
    page.goto("/tools/resize")
    choose(page, {"name": "fake.jpg", "mimeType": "image/jpeg", "buffer": text_as_jpeg()})
    page.get_by_role("button", name="Run", exact=True).click()
    error = page.locator("[data-run-error]")
    expect(error).to_be_visible(timeout=15_000)
    expect(error).not_to_be_empty()
    expect(page.get_by_role("link", name="Download", exact=True)).to_have_count(0)


def test_an_ai_tool_without_its_model_shows_the_install_hint(admin_page: Page) -> None:
    page = admin_page
    page.goto("/tools/colorize")
    expect(page.get_by_text("This tool needs model ddcolor")).to_be_visible()
    expect(page.get_by_role("link", name="Manage models")).to_have_attribute(
        "href", "/admin/models?for=colorize"
    )
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_disabled()


def test_a_library_file_from_the_url_is_run_and_gets_a_new_version(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    stored = api.post(
        f"{live.base}/api/v1/upload",
        headers=admin_headers,
        files=[("files", ("library-photo.jpg", PHOTO.read_bytes(), "image/jpeg"))],
    )
    assert stored.status_code == 201, stored.text
    file_id = stored.json()["files"][0]["id"]
    page = admin_page
    settings = quote(json.dumps({"width": 120}))
    page.goto(f"/tools/resize?file={file_id}&settings={settings}")
    expect(page.get_by_label("Width", exact=True)).to_have_value("120")
    expect(page.get_by_text("library-photo.jpg").first).to_be_visible()
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("link", name="Download", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Saved as a new version of library-photo.jpg")).to_be_visible()
    expect(page.get_by_role("link", name="Open in the library")).to_have_attribute(
        "href", f"/library/{file_id}"
    )
    detail = api.get(f"{live.base}/api/v1/files/{file_id}", headers=admin_headers).json()
    assert detail["versionCount"] == 2 and detail["width"] == 120


def test_json_results_are_shown_readably_with_a_copy_button(
    admin_page: Page, artifacts: Path
) -> None:
    page = admin_page
    page.goto("/tools/color-palette")
    choose(page, PHOTO)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator(".swatch").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Copy", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Download", exact=True)).to_be_visible()
    audit_page(page, artifacts, "tool-palette-result")


def drag(page: Page, selector: str, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A mouse drag between two points given as fractions of the element's box."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=4)
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=4)
    page.mouse.up()


def test_the_crop_box_drawn_on_the_image_fills_the_settings(
    admin_page: Page, artifacts: Path, tmp_path: Path
) -> None:
    page = admin_page
    page.goto("/tools/crop")
    choose(page, PHOTO)
    expect(page.get_by_role("img", name="photo.jpg")).to_be_visible()
    drag(page, ".preview-image", (0.25, 0.25), (0.75, 0.75))
    values = {
        name: int(page.get_by_label(name, exact=True).input_value())
        for name in ("Left", "Top", "Width", "Height")
    }
    assert abs(values["Left"] - 150) <= 3 and abs(values["Top"] - 100) <= 3, values
    assert abs(values["Width"] - 300) <= 3 and abs(values["Height"] - 200) <= 3, values
    audit_page(page, artifacts, "tool-crop")
    page.get_by_role("button", name="Run", exact=True).click()
    download_link = page.get_by_role("link", name="Download", exact=True)
    expect(download_link).to_be_visible(timeout=30_000)
    with page.expect_download() as info:
        download_link.click()
    info.value.save_as(tmp_path / "cropped.jpg")
    image = pyvips.Image.new_from_file(str(tmp_path / "cropped.jpg"))
    assert (image.width, image.height) == (values["Width"], values["Height"])


def test_the_mask_brush_paints_what_erase_object_erases(admin_page: Page) -> None:
    page = admin_page
    page.goto("/tools/erase-object")
    choose(page, PHOTO)
    expect(page.get_by_role("img", name="photo.jpg")).to_be_visible()
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Paint the area to erase first")).to_be_visible()
    expect(page.get_by_label("Brush size")).to_be_visible()
    drag(page, ".mask-canvas", (0.4, 0.4), (0.6, 0.5))
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("link", name="Download", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_role("slider", name="Before and after")).to_be_visible()


def test_collage_templates_and_the_split_grid_are_shown(admin_page: Page) -> None:
    page = admin_page
    page.goto("/tools/collage")
    page.get_by_role("button", name="grid-2x2").click()
    expect(page.get_by_role("combobox", name="Template")).to_have_value("grid-2x2")
    expect(page.get_by_role("button", name="grid-2x2")).to_have_attribute("aria-pressed", "true")
    page.goto("/tools/split")
    choose(page, PHOTO)
    expect(page.locator(".grid-lines line")).to_have_count(2)  # 2 x 2: one cut each way
    page.get_by_role("spinbutton", name="Rows").fill("4")
    expect(page.locator(".grid-lines line")).to_have_count(4)


def test_an_image_pasted_from_the_clipboard_becomes_the_input(admin_page: Page) -> None:
    page = admin_page
    page.goto("/tools/resize")
    page.evaluate(
        """async () => {
            const canvas = document.createElement("canvas");
            canvas.width = 32; canvas.height = 24;
            canvas.getContext("2d").fillRect(0, 0, 16, 12);
            const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
            const data = new DataTransfer();
            data.items.add(new File([blob], "image.png", { type: "image/png" }));
            const paste = new ClipboardEvent("paste", { clipboardData: data, bubbles: true });
            document.dispatchEvent(paste);
        }"""
    )
    expect(page.locator("[data-file-list] li")).to_have_count(1)
    expect(page.locator("[data-file-list]")).to_contain_text("pasted-")
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled()


def test_a_two_image_tool_takes_a_base_and_a_second_image(admin_page: Page) -> None:
    page = admin_page
    page.goto("/tools/compare")
    choose(page, PHOTO, FIXTURES / "photo_rotated.jpg")
    expect(page.locator("[data-file-list]")).to_contain_text("Base image: photo.jpg")
    expect(page.locator("[data-file-list]")).to_contain_text("Second image: photo_rotated.jpg")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("link", name="Download", exact=True)).to_be_visible(timeout=30_000)
    expect(page.locator("table.kv")).to_contain_text("ssim")


def test_the_video_tool_takes_videos_and_refuses_images(admin_page: Page, artifacts: Path) -> None:
    from tests.tools.video_support import tiny_mp4

    page = admin_page
    page.goto("/tools/video-upscale")
    picker = page.get_by_label("Videos")
    expect(picker).to_have_attribute("accept", re.compile(r"^video/\*"))
    expect(page.get_by_role("button", name="From library")).to_have_count(0)  # images only
    picker.set_input_files([{"name": "clip.mp4", "mimeType": "video/mp4", "buffer": tiny_mp4()}])
    expect(page.locator("[data-file-list] li")).to_have_count(1)
    expect(page.locator("[data-file-list] video.mini-thumb")).to_have_count(1)
    expect(page.get_by_label("clip.mp4", exact=True)).to_have_count(1)  # the playable preview
    audit_page(page, artifacts, "tool-video-upscale")
    picker.set_input_files(
        [{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": PHOTO.read_bytes()}]
    )
    expect(
        page.get_by_role("alert").filter(has_text="photo.jpg is not a video file")
    ).to_be_visible()
    expect(page.locator("[data-file-list] li")).to_have_count(1)  # the video stays
