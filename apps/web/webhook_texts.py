"""Texts of the settings page's Webhooks section (static/web/webhooks.js)."""

from django.utils.translation import gettext as _


def webhook_texts() -> dict[str, str]:
    """Texts the webhooks script shows ({name}-style placeholders)."""
    return {
        "noWebhooks": _("No webhooks yet."),
        "webhookCreated": _("Webhook added"),
        "confirmDeleteWebhook": _("Delete the webhook to {url}? Its delivery log goes too."),
        "sendTest": _("Send test"),
        "deliveries": _("Deliveries"),
        "deliveriesOf": _("Last deliveries to {url}"),
        "noDeliveries": _("Nothing delivered yet."),
        "testSucceeded": _("Test delivered: HTTP {status} in {ms} ms"),
        "testFailed": _("Test failed: {error}"),
        "testPending": _("The test is still queued: no worker took it yet"),
        "active": _("Active"),
        "inactive": _("Inactive"),
        "allUsers": _("all users"),
        "pickEvent": _("Choose at least one event."),
        "succeeded": _("Succeeded"),
        "failed": _("Failed"),
        "pending": _("Pending"),
        "events": _("Events"),
        "status": _("Status"),
        "result": _("Result"),
        "http": _("HTTP"),
        "latency": _("Latency"),
        "attempts": _("Attempts"),
        "time": _("Time"),
    }
