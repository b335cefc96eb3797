"""Administration in the browser: users, teams, runtime settings, branding, models, system.

Every change is made by clicking through the pages and checked through the API."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser import api
from tests.browser.conftest import audit_page, new_user, sign_in
from tests.live.stack import Stack
from tests.shipped_models import shipped_models_dir
from tools.ai import install
from tools.ai.catalog import catalog

FIXTURES = Path(__file__).parents[1] / "fixtures"


def api_get(live: Stack, headers: dict[str, str], path: str) -> dict:
    response = api.get(f"{live.base}{path}", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def upload_as(live: Stack, headers: dict[str, str], name: str) -> str:
    """A library file of the given owner; returns its id."""
    data = (FIXTURES / "photo.jpg").read_bytes()
    response = api.post(
        f"{live.base}/api/v1/upload",
        files={"files": (name, data, "image/jpeg")},
        headers=headers,
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()["files"][0]["id"]


def test_an_admin_creates_a_user_who_must_change_the_password_and_sees_nothing_of_the_admin(
    admin_page: Page,
    browser: Browser,
    base_url: str,
    live: Stack,
    admin_headers: dict[str, str],
    artifacts: Path,
) -> None:
    admin_file = upload_as(live, admin_headers, "admin-only.jpg")
    username = f"ann{uuid.uuid4().hex[:6]}"
    page = admin_page
    page.goto("/admin/users")
    expect(page.get_by_role("link", name="Users", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    page.get_by_label("Username").fill(username)
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("[data-create-error]")).to_be_visible()  # the server's password policy
    page.get_by_label("Initial password").fill("first-Pass-4711")
    page.get_by_label("Role").select_option("user")
    page.get_by_role("button", name="Create user").click()
    row = page.locator(f"tr[data-user='{username}']")
    expect(row).to_contain_text("Must change password")
    expect(page.locator("[data-create-error]")).to_be_hidden()
    audit_page(page, artifacts, "admin-users")

    page.get_by_label("Username").fill(username)  # the same name again: refused inline
    page.get_by_label("Initial password").fill("another-Pass-4711")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("[data-create-error]")).to_have_text("Username already exists")

    other = browser.new_context(base_url=base_url).new_page()
    sign_in(other, username, "first-Pass-4711")
    expect(other).to_have_url(re.compile(r"/password"))
    other.get_by_label("Current password", exact=True).fill("first-Pass-4711")
    other.get_by_label("New password", exact=True).fill("second-Pass-4711")
    other.get_by_label("Repeat the new password").fill("second-Pass-4711")
    other.get_by_role("button", name="Change password").click()
    expect(other.get_by_role("heading", name="Tools", exact=True)).to_be_visible()
    expect(other.get_by_role("link", name="Administration")).to_have_count(0)
    response = other.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(other.get_by_role("heading", name="Not allowed")).to_be_visible()
    files = other.request.get("/api/v1/files")
    assert files.status == 200
    assert admin_file not in {f["id"] for f in files.json()["files"]}
    other.context.close()

    page.reload()
    expect(page.locator(f"tr[data-user='{username}']")).to_contain_text("Active")


def test_an_admin_changes_a_role_and_team_resets_a_password_and_deletes_a_user(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    username, _ = new_user(live, admin_headers)
    team = f"Team {uuid.uuid4().hex[:6]}"
    assert (
        api.post(
            f"{live.base}/api/v1/teams", json={"name": team}, headers=admin_headers
        ).status_code
        == 201
    )
    page = admin_page
    page.goto("/admin/users")
    page.get_by_role("button", name=f"Edit {username}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Role").select_option("admin")
    dialog.get_by_label("Team").select_option(team)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    row = page.locator(f"tr[data-user='{username}']")
    expect(row).to_contain_text("Administrator")
    expect(row).to_contain_text(team)
    user = next(
        u
        for u in api_get(live, admin_headers, "/api/auth/users")["users"]
        if u["username"] == username
    )
    assert (user["role"], user["team"]) == ("admin", team)

    page.get_by_role("button", name=f"Reset password {username}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("New password").fill("password")
    dialog.get_by_role("button", name="Reset password").click()
    expect(dialog.get_by_role("alert")).to_be_visible()  # too common: the dialog stays open
    dialog.get_by_label("New password").fill("reset-Pass-0815")
    dialog.get_by_role("button", name="Reset password").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Must change password")
    login = api.post(
        f"{live.base}/api/auth/login", json={"username": username, "password": "reset-Pass-0815"}
    )
    assert login.status_code == 200 and login.json()["mustChangePassword"] is True

    page.get_by_role("button", name=f"Delete {username}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    names = {u["username"] for u in api_get(live, admin_headers, "/api/auth/users")["users"]}
    assert username not in names


def test_an_admin_creates_renames_and_deletes_a_team(
    admin_page: Page, live: Stack, admin_headers: dict[str, str], artifacts: Path
) -> None:
    name = f"Studio {uuid.uuid4().hex[:6]}"
    page = admin_page
    page.goto("/admin/teams")
    page.get_by_label("Team name").fill(name)
    page.get_by_role("button", name="Create team").click()
    expect(page.locator(f"tr[data-team='{name}']")).to_be_visible()
    page.get_by_label("Team name").fill(name)
    page.get_by_role("button", name="Create team").click()
    expect(page.locator("[data-create-error]")).to_have_text("Team name already exists")
    audit_page(page, artifacts, "admin-teams")

    page.get_by_role("button", name=f"Rename {name}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(f"{name} 2")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(f"tr[data-team='{name} 2']")).to_be_visible()
    expect(page.get_by_role("button", name="Delete Default")).to_have_count(0)  # the default stays
    page.get_by_role("button", name=f"Delete {name} 2").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(f"tr[data-team='{name} 2']")).to_have_count(0)
    teams = {t["name"] for t in api_get(live, admin_headers, "/api/v1/teams")["teams"]}
    assert name not in teams and f"{name} 2" not in teams


def tool_enabled(live: Stack, headers: dict[str, str], tool_id: str) -> bool:
    tools = api_get(live, headers, "/api/v1/tools")["tools"]
    return next(t for t in tools if t["id"] == tool_id)["enabled"]


def test_disabling_a_tool_in_the_runtime_settings_disables_it_in_the_api(
    admin_page: Page, live: Stack, admin_headers: dict[str, str], artifacts: Path
) -> None:
    page = admin_page
    page.goto("/admin/settings")
    limit = page.get_by_label("Failed sign-ins before a pause")
    expect(limit).to_have_value("10")
    expect(page.get_by_role("switch", name="Show experimental tools")).not_to_be_checked()
    audit_page(page, artifacts, "admin-settings")

    limit.fill("5000")  # out of range: the server's message, nothing saved
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("[data-error]")).to_contain_text("loginAttemptLimit")
    assert api_get(live, admin_headers, "/api/v1/settings")["settings"]["loginAttemptLimit"] == 10

    limit.fill("25")
    page.get_by_role("checkbox", name="Rotate & Flip", exact=True).check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("[data-status]")).to_have_text("Settings saved")
    settings = api_get(live, admin_headers, "/api/v1/settings")["settings"]
    assert settings["disabledTools"] == ["rotate"] and settings["loginAttemptLimit"] == 25
    assert tool_enabled(live, admin_headers, "rotate") is False

    page.reload()  # what was saved is what the page shows
    expect(page.get_by_role("checkbox", name="Rotate & Flip", exact=True)).to_be_checked()
    page.get_by_role("checkbox", name="Rotate & Flip", exact=True).uncheck()
    page.get_by_label("Failed sign-ins before a pause").fill("10")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("[data-status]")).to_have_text("Settings saved")
    assert tool_enabled(live, admin_headers, "rotate") is True


def test_an_admin_uploads_and_removes_the_logo(
    admin_page: Page, base_url: str, artifacts: Path
) -> None:
    page = admin_page
    page.goto("/admin/branding")
    expect(page.get_by_text("No logo uploaded")).to_be_visible()
    page.get_by_label("Logo image").set_input_files(str(FIXTURES / "photo.jpg"))
    expect(page.locator("[data-chosen] img")).to_be_visible()  # the preview before uploading
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_role("img", name="The uploaded logo")).to_be_visible()
    page.reload()
    expect(page.locator(".brand img")).to_have_attribute("src", "/api/v1/branding/logo")
    logo = page.request.get("/api/v1/branding/logo")
    assert logo.status == 200 and logo.body()[:8] == b"\x89PNG\r\n\x1a\n"
    audit_page(page, artifacts, "admin-branding")

    page.get_by_role("button", name="Remove logo").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove logo").click()
    expect(page.get_by_text("No logo uploaded")).to_be_visible()
    assert page.request.get("/api/v1/branding/logo").status == 404


def u2netp_file() -> Path:
    """u2netp's weights, from the shipped-models cache (tests/shipped_models.py)."""
    spec = catalog()["u2netp"]
    return install.file_path(shipped_models_dir(), spec, spec.files[0])


def test_the_models_page_lists_the_catalog_and_imports_a_shipped_model(
    admin_page: Page, live: Stack, admin_headers: dict[str, str], artifacts: Path, tmp_path: Path
) -> None:
    catalog_models = api_get(live, admin_headers, "/api/v1/models")["models"]
    page = admin_page
    page.goto("/admin/models?for=remove-background")
    cards = page.locator("article[data-model]")
    expect(cards).to_have_count(len(catalog_models))
    expect(page.locator("[data-focus-note]")).to_contain_text("Remove Background")
    # The tool's models come first, marked; the first one not installed has the focus.
    wanted = [m["id"] for m in catalog_models if "remove-background" in m["tools"]]
    assert cards.first.get_attribute("data-model") in wanted
    expect(page.locator("article.wanted")).to_have_count(len(wanted))
    expect(page.locator("article.model-card:focus")).to_have_count(1)
    for model in catalog_models:
        badge = page.locator(f"article[data-model='{model['id']}'] [data-status]")
        expect(badge).to_have_attribute("data-status", model["status"])
    card = page.locator("article[data-model='u2netp']")
    expect(card).to_contain_text("Shipped with Pixelsmith")
    expect(card).to_contain_text("Remove Background")
    page.evaluate("window.scrollTo(0, 0)")  # the screenshots start at the top
    audit_page(page, artifacts, "admin-models")

    wrong = tmp_path / "u2netp.onnx"
    wrong.write_bytes(b"not the weights" * 100)
    card.get_by_label(re.compile("^Import a file")).set_input_files(str(wrong))
    expect(card.get_by_role("alert")).to_be_visible()
    expect(card.locator("[data-status]")).to_have_text("Missing")

    card.get_by_label(re.compile("^Import a file")).set_input_files(str(u2netp_file()))
    expect(card.locator("[data-status]")).to_have_text("Installed")
    assert api_get(live, admin_headers, "/api/v1/models/u2netp")["status"] == "installed"
    expect(card.get_by_role("button", name=re.compile("^Load"))).to_be_visible()

    installed = [
        m for m in api_get(live, admin_headers, "/api/v1/models")["models"] if m["installed"]
    ]
    page.get_by_label("Status").select_option("installed")
    expect(page.locator("article[data-model]:visible")).to_have_count(len(installed))
    expect(card).to_be_visible()


def test_a_shipped_model_installs_from_the_models_page(
    admin_page: Page, live: Stack, admin_headers: dict[str, str]
) -> None:
    shipped_models_dir()  # fills the wheel cache the live server was given (no network after)
    page = admin_page
    page.goto("/admin/models")
    card = page.locator("article[data-model='mediapipe-selfie-segmenter']")
    expect(card.locator("[data-status]")).to_have_text("Missing")
    card.get_by_role("button", name=re.compile("^Install")).click()
    expect(card.locator("[data-status]")).to_have_text("Installed", timeout=120_000)
    model = api_get(live, admin_headers, "/api/v1/models/mediapipe-selfie-segmenter")
    assert model["status"] == "installed"


def test_the_system_page_shows_hardware_checks_and_features(
    admin_page: Page, artifacts: Path
) -> None:
    page = admin_page
    page.goto("/admin/system")
    expect(page.locator("[data-doctor] li").first).to_contain_text("database")
    expect(page.locator("[data-hardware]")).to_contain_text("cores")
    expect(page.locator("[data-features] li").first).to_be_visible()
    expect(page.locator("[data-workers]")).not_to_have_text("…")
    audit_page(page, artifacts, "admin-system")


def test_the_overview_links_every_section_and_fits_a_phone(
    admin_page: Page, artifacts: Path
) -> None:
    page = admin_page
    page.goto("/admin")
    expect(page.locator("[data-models-summary]")).to_contain_text("installed")
    expect(page.locator("[data-health]")).not_to_have_text("…")
    audit_page(page, artifacts, "admin-overview")
    page.set_viewport_size({"width": 375, "height": 740})
    tabs = page.get_by_role("navigation", name="Administration sections")
    for name in ("Users", "Teams", "Runtime settings", "Branding", "Models", "System"):
        link = tabs.get_by_role("link", name=name, exact=True)
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box is not None and box["height"] >= 44
    tabs.get_by_role("link", name="Models", exact=True).click()
    expect(page).to_have_url(re.compile("/admin/models$"))


def test_ordinary_users_get_the_forbidden_page_everywhere_in_administration(
    user_page: Page,
) -> None:
    for path in (
        "/admin",
        "/admin/users",
        "/admin/teams",
        "/admin/settings",
        "/admin/branding",
        "/admin/models",
        "/admin/system",
    ):
        response = user_page.goto(path)
        assert response is not None and response.status == 403, path
    expect(user_page.get_by_role("heading", name="Not allowed")).to_be_visible()
