"""Creating, changing and testing webhooks: the rules the REST views apply.

A webhook's URL is checked (apps.webhooks.addresses) when it is set; its secret is 32
random bytes, generated here and replaced on request (`rotateSecret`). Scope "all" is
for admins' own webhooks only. A user has at most WEBHOOK_MAX_PER_USER webhooks.
Deactivating a webhook gives up its pending retries.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.conf import settings
from django.db import connection

from apps.core.errors import ApiError
from apps.core.ownership import is_admin_user
from apps.webhooks import addresses, payloads
from apps.webhooks.delivery import enqueue
from apps.webhooks.dispatch import new_delivery
from apps.webhooks.models import EVENTS, TEST, Delivery, Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (a label, not a secret)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(32)


def checked_url(url: Any) -> str:
    """The URL if a webhook may target it, else 400 WEBHOOK_URL_INVALID / _UNRESOLVABLE /
    _PRIVATE. Resolves the host name."""
    try:
        addresses.check(url)
    except addresses.TargetRefused as refused:
        raise refused.as_api_error() from None
    return str(url)


def checked_events(events: Any) -> list[str]:
    """The subscribed events, deduplicated in the documented order; 400 if unknown/empty."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        message = f"events: one or more of {', '.join(EVENTS)}" + (
            f" (unknown: {', '.join(unknown)})" if unknown else ""
        )
        raise ApiError(400, "WEBHOOK_EVENTS_INVALID", message)
    return [event for event in EVENTS if event in events]


def check_scope(scope: str, owner: Any, actor: Any) -> None:
    if scope == Webhook.Scope.ALL and not (is_admin_user(actor) and is_admin_user(owner)):
        raise ApiError(
            403, "WEBHOOK_SCOPE_FORBIDDEN", "Only an admin's own webhook may have scope 'all'"
        )


def create(owner: Any, fields: dict[str, Any]) -> Webhook:
    """A new webhook of `owner` from validated fields (url required)."""
    if Webhook.objects.filter(owner=owner).count() >= settings.WEBHOOK_MAX_PER_USER:
        raise ApiError(
            409, "WEBHOOK_LIMIT", f"At most {settings.WEBHOOK_MAX_PER_USER} webhooks per user"
        )
    scope = fields.get("scope", Webhook.Scope.OWN)
    check_scope(scope, owner, owner)
    return Webhook.objects.create(
        owner=owner,
        url=checked_url(fields["url"]),
        description=fields.get("description", ""),
        events=checked_events(fields.get("events", EVENTS)),
        active=fields.get("active", True),
        scope=scope,
        secret=new_secret(),
    )


def update(webhook: Webhook, actor: Any, fields: dict[str, Any]) -> bool:
    """Apply validated fields (those given); True if the secret was rotated."""
    if "url" in fields and fields["url"] != webhook.url:
        webhook.url = checked_url(fields["url"])
    if "events" in fields:
        webhook.events = checked_events(fields["events"])
    if "scope" in fields:
        check_scope(fields["scope"], webhook.owner, actor)
        webhook.scope = fields["scope"]
    if "description" in fields:
        webhook.description = fields["description"]
    if "active" in fields:
        webhook.active = fields["active"]
    rotate = bool(fields.get("rotateSecret"))
    if rotate:
        webhook.secret = new_secret()
    webhook.save()
    if not webhook.active:
        give_up_pending(webhook)
    return rotate


def give_up_pending(webhook: Webhook) -> None:
    """An inactive webhook's retries stop: their deliveries end as failed."""
    Delivery.objects.filter(webhook=webhook, next_attempt_at__isnull=False).update(
        next_attempt_at=None, status=Delivery.Status.FAILED, error="The webhook was deactivated"
    )


def send_test(webhook: Webhook) -> Delivery:
    """Queue a webhook.test delivery (an inactive webhook's too) and wait, up to the
    send's own limits, for its one attempt; the delivery comes back as it then is
    (still pending if no worker took it)."""
    delivery = new_delivery(webhook, TEST, payloads.ping_data(webhook.pk))
    enqueue(delivery.pk)
    deadline = time.monotonic() + 2 * settings.WEBHOOK_TIMEOUT_S + 5
    delay = 0.02
    while True:
        delivery.refresh_from_db()
        if delivery.next_attempt_at is None or time.monotonic() >= deadline:
            return delivery
        if not connection.in_atomic_block:  # as apps.jobs.services.wait_for: free it meanwhile
            connection.close()
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
