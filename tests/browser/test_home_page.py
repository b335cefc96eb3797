"""The home page: the tool grid by category, search (Ctrl+K), favourites, AI readiness."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser import api
from tests.browser.conftest import audit_page


def test_every_tool_is_a_link_named_by_the_tool(admin_page: Page, live, admin_headers) -> None:
    tools = api.get(f"{live.base}/api/v1/tools", headers=admin_headers).json()["tools"]
    admin_page.goto("/")
    for tool in tools:
        link = admin_page.get_by_role("link", name=tool["name"], exact=True).first
        expect(link).to_have_attribute("href", f"/tools/{tool['id']}")


def test_ctrl_k_searches_and_enter_opens_the_first_match(admin_page: Page) -> None:
    admin_page.goto("/")
    admin_page.keyboard.press("Control+k")
    search = admin_page.get_by_label("Search tools")
    expect(search).to_be_focused()
    search.fill("qr")
    expect(admin_page.get_by_role("link", name="QR Code Generator", exact=True)).to_be_visible()
    expect(admin_page.get_by_role("link", name="Resize", exact=True)).to_be_hidden()
    search.press("Enter")
    expect(admin_page).to_have_url(re.compile(r"/tools/qr-generate$"))


def test_a_favourite_is_listed_first_and_kept_across_reloads(admin_page: Page) -> None:
    admin_page.goto("/")
    admin_page.get_by_role("button", name="Favourite: Compress").click()
    admin_page.reload()
    favourites = admin_page.get_by_role("region", name="Favourites")
    expect(favourites.get_by_role("link", name="Compress", exact=True)).to_be_visible()
    expect(admin_page.get_by_role("button", name="Favourite: Compress")).to_have_attribute(
        "aria-pressed", "true"
    )


def test_an_ai_tool_without_its_model_says_which_model_it_needs(admin_page: Page) -> None:
    admin_page.goto("/")
    card = admin_page.locator('[data-tool-id="colorize"]')
    expect(card).to_contain_text("Needs model")
    expect(card.get_by_role("link", name="Install")).to_have_attribute(
        "href", "/admin/models?for=colorize"
    )


def test_the_phone_menu_opens_and_closes(admin_page: Page) -> None:
    admin_page.set_viewport_size({"width": 375, "height": 740})
    admin_page.goto("/")
    nav = admin_page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    menu = admin_page.get_by_role("button", name="Menu")
    menu.click()
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    box = nav.get_by_role("link", name="Library").bounding_box()
    assert box and box["height"] >= 44  # a touch target


def test_the_theme_toggle_is_remembered(admin_page: Page) -> None:
    admin_page.emulate_media(color_scheme="light")
    admin_page.goto("/")
    admin_page.get_by_role("button", name="Switch between light and dark theme").click()
    admin_page.reload()
    assert admin_page.evaluate("document.documentElement.dataset.theme") == "dark"
    background = admin_page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 20, 25)"


def test_home_and_error_pages_are_accessible(admin_page: Page, artifacts: Path) -> None:
    admin_page.goto("/")
    audit_page(admin_page, artifacts, "home")
    admin_page.goto("/no-such-page")
    audit_page(admin_page, artifacts, "not-found")
    admin_page.goto("/password")
    audit_page(admin_page, artifacts, "password")
