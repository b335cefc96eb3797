"""Permission-table rows of /api/v1/webhooks (see tests/api/permission_kit.py).

Anyone signed in manages their own webhooks; another user's webhook is 404 unless admin.
Bob's webhook targets the link-local metadata address, which the send-time check refuses
(WEBHOOK_ALLOW_PRIVATE is off): its test delivery fails without touching the network.
"""

from typing import Any

from apps.webhooks.models import Webhook
from tests.api.permission_kit import AUTH, Row, World

OTHERS = (401, 404, 200, 404, 200)
ROUTE = "/api/v1/webhooks/<uuid:webhook_id>"
PUBLIC = "https://1.1.1.1/hook"  # an IP literal: accepted without DNS


def prepare(world: World) -> dict[str, Any]:
    webhook = Webhook.objects.create(
        owner=world.bob, url="http://169.254.169.254/latest/meta-data", secret="whsec_bob"
    )
    return {"bob_webhook": webhook.pk}


ROWS: dict[str, Row] = {
    "webhooks-list": Row("GET", "/api/v1/webhooks", AUTH),
    "webhooks-create": Row(
        "POST", "/api/v1/webhooks", (401, 201, 201, 201, 201), lambda: {"url": PUBLIC}
    ),
    "webhook-get-others": Row("GET", "/api/v1/webhooks/{bob_webhook}", OTHERS, route=ROUTE),
    "webhook-put-others": Row(
        "PUT", "/api/v1/webhooks/{bob_webhook}", OTHERS, lambda: {"url": PUBLIC}, route=ROUTE
    ),
    "webhook-patch-others": Row(
        "PATCH", "/api/v1/webhooks/{bob_webhook}", OTHERS, lambda: {"active": False}, route=ROUTE
    ),
    "webhook-delete-others": Row("DELETE", "/api/v1/webhooks/{bob_webhook}", OTHERS, route=ROUTE),
    "webhook-test-others": Row(
        "POST", "/api/v1/webhooks/{bob_webhook}/test", OTHERS, route=f"{ROUTE}/test"
    ),
    "webhook-deliveries-others": Row(
        "GET", "/api/v1/webhooks/{bob_webhook}/deliveries", OTHERS, route=f"{ROUTE}/deliveries"
    ),
}
