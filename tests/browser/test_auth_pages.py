"""Sign-in, the forced password change, sign-out: the browser's way in."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.browser import api
from tests.browser.conftest import audit_page, sign_in
from tests.live.stack import Stack


def test_a_new_user_must_change_the_password_before_anything_else(
    browser: Browser, base_url: str, live: Stack, admin_headers: dict[str, str]
) -> None:
    created = api.post(
        f"{live.base}/api/auth/register",
        json={"username": "newcomer", "password": "initial-Pass-1", "role": "user"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    page = browser.new_context(base_url=base_url).new_page()
    sign_in(page, "newcomer", "initial-Pass-1")
    expect(page).to_have_url(re.compile(r"/password"))
    page.goto("/tools/resize")  # any other page leads back to the password form
    expect(page).to_have_url(re.compile(r"/password\?next=/tools/resize"))
    page.get_by_label("Current password", exact=True).fill("initial-Pass-1")
    page.get_by_label("New password", exact=True).fill("brand-new-Pass-2")
    page.get_by_label("Repeat the new password").fill("brand-new-Pass-2")
    page.get_by_role("button", name="Change password").click()
    expect(page).to_have_url(f"{base_url}/tools/resize")
    # The new password signs in through the API too; the old one no longer does.
    assert (
        api.post(
            f"{live.base}/api/auth/login",
            json={"username": "newcomer", "password": "brand-new-Pass-2"},
        ).status_code
        == 200
    )
    assert (
        api.post(
            f"{live.base}/api/auth/login",
            json={"username": "newcomer", "password": "initial-Pass-1"},
        ).status_code
        == 401
    )


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(
    browser: Browser, base_url: str
) -> None:
    page = browser.new_context(base_url=base_url).new_page()
    sign_in(page, "admin", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("Invalid username or password")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/"))


def test_sign_out_ends_the_session(browser: Browser, base_url: str, live: Stack) -> None:
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    sign_in(page, "admin", live.password)
    expect(page.get_by_role("heading", name="Tools", exact=True)).to_be_visible()
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    # The old cookie is worth nothing now, even replayed.
    replay = api.get(f"{live.base}/api/auth/session", cookies=cookies)
    assert replay.status_code == 401


def test_the_sign_in_page_is_accessible(browser: Browser, base_url: str, artifacts) -> None:
    page = browser.new_context(base_url=base_url).new_page()
    page.goto("/login")
    audit_page(page, artifacts, "login")
