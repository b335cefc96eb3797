"""/settings: the account and its API keys, created in the browser and used from curl."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import audit_page


def curl_files(base_url: str, key: str) -> tuple[int, str]:
    """GET /api/v1/files with the key, as a script would: (status, body)."""
    done = subprocess.run(
        [
            "curl",
            "-s",
            "-w",
            "\n%{http_code}",
            "-H",
            f"Authorization: Bearer {key}",
            f"{base_url}/api/v1/files",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), body


def test_an_api_key_created_in_the_ui_works_with_curl_until_it_is_deleted(
    user_page: Page, base_url: str, artifacts: Path
) -> None:
    page = user_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/settings")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("[data-username]")).to_have_text(page.username)  # type: ignore[attr-defined]
    expect(page.get_by_role("link", name="Change password")).to_have_attribute(
        "href", re.compile("^/password")
    )
    expect(page.get_by_text("No API keys yet.")).to_be_visible()

    page.get_by_label("Key name").fill("backup script")
    page.get_by_role("button", name="Create key").click()
    shown = page.get_by_label("New API key")
    expect(shown).to_have_value(re.compile(r"^si_[0-9a-f]{96}$"))
    expect(page.get_by_text("Copy this key now: it is shown only once.")).to_be_visible()
    key = shown.input_value()
    page.get_by_role("button", name="Copy", exact=True).click()
    assert page.evaluate("navigator.clipboard.readText()") == key
    row = page.locator("tr[data-key='backup script']")
    expect(row).to_contain_text(key[:11])
    expect(row).to_contain_text("Never")
    audit_page(page, artifacts, "settings")

    status, body = curl_files(base_url, key)
    assert status == 200, body
    assert isinstance(json.loads(body)["files"], list)

    page.reload()  # the key is never shown again; its last use is
    expect(page.get_by_label("New API key")).to_be_hidden()
    expect(page.locator("tr[data-key='backup script']")).not_to_contain_text("Never")

    page.get_by_role("button", name="Delete backup script").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the API key backup script?")
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    assert curl_files(base_url, key)[0] == 401


def test_cancelling_the_delete_keeps_the_key(user_page: Page) -> None:
    page = user_page
    page.goto("/settings")
    page.get_by_role("button", name="Create key").click()  # no name: the API's default name
    expect(page.get_by_label("New API key")).to_have_value(re.compile("^si_"))
    page.get_by_role("button", name="Delete Default API Key").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    page.reload()
    expect(page.locator("tr[data-key='Default API Key']")).to_be_visible()
