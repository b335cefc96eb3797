"""The pipeline builder (/pipelines): build, validate, reorder, save, load, delete, import,
export and run pipelines in a real Chromium against the live stack."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyvips
from playwright.sync_api import Locator, Page, expect

from tests.browser import api
from tests.browser.conftest import UPLOAD_LIMIT_MB, audit_page
from tests.live.stack import Stack

SLOW = 60_000  # ms: a job on the live worker


def image(folder: Path, name: str = "photo.png", width: int = 400, height: int = 300) -> Path:
    """A small real PNG (a gradient, so it is not trivially compressible)."""
    path = folder / name
    pyvips.Image.xyz(width, height)[0].cast("uchar").bandjoin([128, 64]).write_to_file(str(path))
    return path


def steps_of(page: Page) -> Locator:
    return page.get_by_role("list", name="Steps").get_by_role("listitem")


def step(page: Page, number: int, tool: str) -> Locator:
    return page.get_by_role("listitem", name=f"Step {number}: {tool}", exact=True)


def add_step(page: Page, search: str, tool: str) -> None:
    page.get_by_role("button", name="Add step").click()
    page.get_by_label("Search tools").fill(search)
    page.get_by_role("button", name=tool, exact=True).click()


def tool_order(page: Page) -> list[str]:
    return steps_of(page).evaluate_all("items => items.map(i => i.dataset.tool)")


def build_three_steps(page: Page) -> None:
    """resize width 200 -> rotate 90 -> convert webp, checked by the server."""
    page.goto("/pipelines")
    add_step(page, "resize", "Resize")
    step(page, 1, "Resize").get_by_label("Width").fill("200")
    add_step(page, "rotate", "Rotate & Flip")
    step(page, 2, "Rotate & Flip").get_by_role("spinbutton", name="Angle").fill("90")
    add_step(page, "convert", "Convert")
    step(page, 3, "Convert").get_by_label("Format").select_option("webp")
    expect(page.get_by_role("status").filter(has_text="Ready")).to_have_text(
        "Ready: 3 steps checked by the server"
    )


def saved_pipelines(live: Stack, admin_headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = api.get(f"{live.base}/api/v1/pipeline/list", headers=admin_headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["pipelines"]


def save_as(page: Page, name: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Save pipeline").click()
    expect(page.get_by_role("button", name=f"Load {name}")).to_be_visible()


def test_a_three_step_pipeline_is_built_saved_reloaded_loaded_and_run(
    user_page: Page, live: Stack, admin_headers: dict[str, str], tmp_path: Path, artifacts: Path
) -> None:
    page = user_page
    build_three_steps(page)
    name = f"Web thumbs {page.username}"  # type: ignore[attr-defined]
    save_as(page, name)
    stored = [p for p in saved_pipelines(live, admin_headers) if p["name"] == name]
    assert len(stored) == 1
    assert [s["toolId"] for s in stored[0]["steps"]] == ["resize", "rotate", "convert"]
    assert stored[0]["steps"][0]["settings"]["width"] == 200
    assert stored[0]["steps"][1]["settings"]["angle"] == 90
    assert stored[0]["steps"][2]["settings"]["format"] == "webp"

    page.reload()  # the unsaved state survives a reload
    expect(steps_of(page)).to_have_count(3)
    page.get_by_role("button", name="New pipeline").click()
    expect(steps_of(page)).to_have_count(0)
    page.get_by_role("button", name=f"Load {name}").click()
    expect(steps_of(page)).to_have_count(3)
    expect(page.get_by_label("Name", exact=True)).to_have_value(name)
    expect(step(page, 1, "Resize").get_by_label("Width")).to_have_value("200")
    expect(step(page, 2, "Rotate & Flip").get_by_role("spinbutton", name="Angle")).to_have_value(
        "90"
    )
    expect(step(page, 3, "Convert").get_by_label("Format")).to_have_value("webp")

    images = page.get_by_label("Images")
    images.set_input_files([image(tmp_path, "a.png"), image(tmp_path, "b.png")])
    expect(page.get_by_role("button", name="Run on 2 files")).to_be_enabled()
    page.get_by_role("button", name="Remove b.png").click()
    page.get_by_role("button", name="Run", exact=True).click()
    download_link = page.get_by_role("link", name="Download", exact=True)
    expect(download_link).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("img", name=re.compile("Result"))).to_be_visible()
    expect(page.get_by_text("150 × 200 px")).to_be_visible()
    page.screenshot(path=str(artifacts / "pipelines-result-desktop.png"), full_page=True)
    with page.expect_download() as caught:
        download_link.click()
    result = pyvips.Image.new_from_file(caught.value.path(), access="sequential")
    assert result.get("vips-loader").startswith("webp")
    assert (result.width, result.height) == (150, 200)  # 400x300 -> 200x150 -> rotated


def test_a_pipeline_runs_on_a_library_file_and_versions_it(
    admin_page: Page, live: Stack, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    source = image(tmp_path, "library-source.png")
    uploaded = api.post(
        f"{live.base}/api/v1/upload",
        files={"files": ("library-source.png", source.read_bytes(), "image/png")},
        headers=admin_headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["files"][0]["id"]
    page = admin_page
    page.goto("/pipelines")
    page.get_by_role("button", name="New pipeline").click()
    add_step(page, "resize", "Resize")
    step(page, 1, "Resize").get_by_label("Width").fill("100")
    page.get_by_role("button", name="Choose from library").click()
    page.get_by_label("Search library").fill("library-source")
    page.get_by_role("checkbox", name="Select library-source.png").check()
    expect(page.get_by_text("Library files get the result as a new version.")).to_be_visible()
    page.get_by_role("button", name="Run", exact=True).click()
    download = page.get_by_role("link", name="Download", exact=True)
    expect(download).to_be_visible(timeout=SLOW)
    with page.expect_download() as caught:
        download.click()
    result = pyvips.Image.new_from_file(caught.value.path())
    assert (result.width, result.height) == (100, 75)
    detail = api.get(f"{live.base}/api/v1/files/{file_id}", headers=admin_headers).json()
    assert detail["version"] == 2
    assert detail["width"] == 100

    # Its file page re-runs the pipeline's recipe on the file: the builder opens with the
    # steps and the file, and the run makes version 3 (resizing the 100 px version 2).
    page.goto(f"/library/{file_id}")
    page.get_by_role("link", name="Re-run recipe of version 2").click()
    expect(page).to_have_url(re.compile(r"/pipelines\?"))
    expect(step(page, 1, "Resize").get_by_label("Width")).to_have_value("100")
    expect(page.get_by_text("Library files get the result as a new version.")).to_be_visible()
    step(page, 1, "Resize").get_by_label("Width").fill("50")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("link", name="Download", exact=True)).to_be_visible(timeout=SLOW)
    detail = api.get(f"{live.base}/api/v1/files/{file_id}", headers=admin_headers).json()
    assert (detail["version"], detail["width"]) == (3, 50)


def test_steps_reorder_with_the_move_buttons_and_by_dragging(user_page: Page) -> None:
    page = user_page
    build_three_steps(page)
    page.get_by_role("button", name="Move step 3 up").click()
    assert tool_order(page) == ["resize", "convert", "rotate"]
    expect(page.get_by_role("button", name="Move step 2 up")).to_be_focused()
    page.get_by_role("button", name="Move step 1 down").click()
    assert tool_order(page) == ["convert", "resize", "rotate"]
    expect(page.get_by_role("button", name="Move step 1 up")).to_be_disabled()

    for number in (1, 2, 3):  # collapsed (as on a phone), the three fit on the screen
        settings = page.get_by_role("button", name=f"Settings of step {number}")
        settings.click()
        expect(settings).to_have_attribute("aria-expanded", "false")
    expect(step(page, 2, "Resize").get_by_text("width 200")).to_be_visible()
    handle = step(page, 3, "Rotate & Flip").locator(".pl-handle")
    target = step(page, 1, "Convert").bounding_box()
    start = handle.bounding_box()
    assert target and start
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    for fraction in (0.75, 0.5, 0.25, 0.0):
        y = target["y"] + 4 + (start["y"] - target["y"]) * fraction
        page.mouse.move(start["x"] + start["width"] / 2, y, steps=5)
    page.mouse.up()
    assert tool_order(page) == ["rotate", "convert", "resize"]
    expect(page.get_by_role("button", name="Remove step 1 (Rotate & Flip)")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Ready")).to_be_visible()

    page.get_by_role("button", name="Remove step 2 (Convert)").click()
    assert tool_order(page) == ["rotate", "resize"]


def test_an_invalid_value_shows_the_step_named_error_on_its_step(user_page: Page) -> None:
    page = user_page
    page.goto("/pipelines")
    add_step(page, "resize", "Resize")
    # Only the server knows resize needs a size: its step-named error lands on step 1.
    first = step(page, 1, "Resize")
    expect(first.get_by_text("Step 1 (resize): give width and/or height")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Fix the marked step")).to_be_visible()
    first.get_by_label("Width").fill("300")
    expect(first.get_by_text("Step 1 (resize)")).to_be_hidden()
    add_step(page, "rotate", "Rotate & Flip")
    angle = step(page, 2, "Rotate & Flip").get_by_role("spinbutton", name="Angle")
    angle.fill("999")  # out of range: marked in the browser, before anything is sent
    expect(step(page, 2, "Rotate & Flip").get_by_text("Step 2 (rotate): angle")).to_be_visible()
    expect(angle).to_have_attribute("aria-invalid", "true")
    angle.fill("45")
    expect(page.get_by_role("status").filter(has_text="Ready")).to_be_visible()


def test_a_saved_pipeline_can_be_deleted(
    user_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    page = user_page
    page.goto("/pipelines")
    add_step(page, "resize", "Resize")
    step(page, 1, "Resize").get_by_label("Width").fill("120")
    name = f"Doomed {page.username}"  # type: ignore[attr-defined]
    save_as(page, name)
    stored = [p for p in saved_pipelines(live, admin_headers) if p["name"] == name]
    assert len(stored) == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Delete {name}").click()
    expect(page.get_by_role("button", name=f"Load {name}")).to_be_hidden()
    expect(page.get_by_text("No saved pipelines yet.")).to_be_visible()
    assert all(p["id"] != stored[0]["id"] for p in saved_pipelines(live, admin_headers))


def test_json_export_and_import_round_trip(user_page: Page, tmp_path: Path) -> None:
    page = user_page
    build_three_steps(page)
    page.get_by_label("Name", exact=True).fill("Round trip")
    with page.expect_download() as caught:
        page.get_by_role("button", name="Export JSON").click()
    exported = json.loads(Path(caught.value.path()).read_text())
    assert exported["name"] == "Round trip"
    assert [s["toolId"] for s in exported["steps"]] == ["resize", "rotate", "convert"]
    assert exported["steps"][0]["settings"]["width"] == 200

    page.get_by_role("button", name="New pipeline").click()
    expect(steps_of(page)).to_have_count(0)
    text = page.get_by_label("Pipeline JSON", exact=True)
    text.fill("{not json")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Not valid JSON")).to_be_visible()
    text.fill(json.dumps({"name": "x", "steps": [{"toolId": "no-such-tool", "settings": {}}]}))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Step 1 (no-such-tool): not a tool")).to_be_visible()
    expect(steps_of(page)).to_have_count(0)

    saved = tmp_path / "exported.pipeline.json"
    saved.write_text(json.dumps(exported))
    page.get_by_label("Pipeline JSON file").set_input_files(saved)
    expect(steps_of(page)).to_have_count(3)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Round trip")
    expect(step(page, 1, "Resize").get_by_label("Width")).to_have_value("200")
    expect(step(page, 3, "Convert").get_by_label("Format")).to_have_value("webp")
    expect(page.get_by_role("status").filter(has_text="Ready")).to_be_visible()


def test_files_over_the_upload_limit_are_refused_before_upload(
    user_page: Page, tmp_path: Path
) -> None:
    page = user_page
    page.goto("/pipelines")
    add_step(page, "resize", "Resize")
    big = tmp_path / "huge.png"
    big.write_bytes(b"\0" * (UPLOAD_LIMIT_MB * 1024 * 1024 + 1))
    page.get_by_label("Images").set_input_files(big)
    expect(page.get_by_role("alert").filter(has_text="huge.png is larger than")).to_be_visible()
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_disabled()


def test_the_pipeline_builder_is_accessible(user_page: Page, artifacts: Path) -> None:
    page = user_page
    build_three_steps(page)
    save_as(page, "Audited")
    page.get_by_role("button", name="Add step").click()
    page.get_by_label("Search tools").fill("co")
    page.get_by_role("button", name="Choose from library").click()
    expect(page.get_by_text("No files in your library match.")).to_be_visible()
    audit_page(page, artifacts, "pipelines")
