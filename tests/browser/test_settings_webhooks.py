"""/settings, Webhooks: add one for a real local receiver, send a test from the page and
see its outcome and the delivery log, then delete it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import audit_page
from tests.webhooks.receiver import receiving, verify


def test_a_webhook_added_in_the_ui_gets_a_signed_test_delivery(
    user_page: Page, artifacts: Path
) -> None:
    page = user_page
    page.goto("/settings")
    section = page.locator("[data-webhooks]")
    expect(section.get_by_text("No webhooks yet.")).to_be_visible()

    with receiving([200]) as receiver:
        section.get_by_label("Webhook URL").fill(receiver.url)
        section.get_by_label("File deleted").uncheck()
        section.get_by_role("button", name="Add webhook").click()
        secret = section.get_by_label("Signing secret")
        expect(secret).to_have_value(re.compile(r"^whsec_[0-9a-f]{64}$"))
        row = section.locator(f"tr[data-webhook='{receiver.url}']")
        expect(row).to_contain_text("job.completed, job.failed, file.created")
        expect(row).to_contain_text("Active")

        row.get_by_role("button", name=f"Send test {receiver.url}").click()
        expect(section.locator("[data-test-result]")).to_contain_text("Test delivered: HTTP 200")
        [sent] = receiver.requests

    assert sent.headers["X-Pixelsmith-Event"] == "webhook.test"
    assert verify(secret.input_value(), sent.headers["X-Pixelsmith-Signature"], sent.body)
    log = section.locator("tr[data-delivery='webhook.test']")
    expect(log).to_contain_text("Succeeded")
    expect(log).to_contain_text("200")
    audit_page(page, artifacts, "settings-webhooks")

    row.get_by_role("button", name=f"Delete {receiver.url}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Delete the webhook to {receiver.url}?")
    dialog.get_by_role("button", name="Delete").click()
    expect(section.get_by_text("No webhooks yet.")).to_be_visible()


def test_a_url_that_is_not_http_is_refused_with_a_message(user_page: Page) -> None:
    page = user_page
    page.goto("/settings")
    section = page.locator("[data-webhooks]")
    section.get_by_label("Webhook URL").fill("ftp://example.org/hook")
    section.get_by_role("button", name="Add webhook").click()

    expect(section.locator("[data-webhook-error]")).to_contain_text("http:// or https://")
    expect(section.get_by_text("No webhooks yet.")).to_be_visible()
