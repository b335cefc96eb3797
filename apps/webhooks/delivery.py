"""Sending deliveries: the django-q2 task, its retries with backoff, and the due sweep.

A delivery is sent by the task `deliver`, never in a request or in a job's thread. The
task claims the delivery by its attempt count (a task run twice sends once), checks the
target again (apps.webhooks.addresses: nothing is sent to a name that now resolves to a
private address), POSTs it signed (apps.webhooks.transport) and records the attempt. A
failure is retried after 30 s, 2 min, 10 min, 1 h, then 6 h, up to WEBHOOK_MAX_ATTEMPTS
in all; `send_due`, scheduled every minute, hands due deliveries to the task. A test
delivery is tried once. Deleting a webhook deletes its deliveries, which stops them.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from apps.webhooks import addresses, transport
from apps.webhooks.models import TEST, Delivery
from apps.webhooks.transport import Outcome

log = logging.getLogger(__name__)

# The task's dotted path is stored with each queued message: keep it stable.
TASK = "apps.webhooks.delivery.deliver"
BACKOFF_S = (30, 120, 600, 3600, 21600)  # before the 2nd, 3rd, ... attempt; then 6 h
LEASE_MARGIN_S = 60  # past the send's own time limit, a claimed delivery is due again
DUE_BATCH = 500  # deliveries handed to the queue per sweep
USER_AGENT = f"Pixelsmith-Webhooks/{settings.VERSION}"
# An inactive webhook gets nothing but the test deliveries its owner asks for.
SENDABLE = Q(webhook__active=True) | Q(event=TEST)


def enqueue(delivery_id: Any) -> None:
    """Hand a delivery to the queue. A broker that is down only delays it: the sweep
    sends every due delivery again."""
    try:
        async_task(TASK, str(delivery_id), task_name=f"webhook-{delivery_id}")
    except Exception:
        log.warning("webhook delivery %s: not queued, the sweep will", delivery_id, exc_info=True)


def send_due() -> int:
    """The scheduled sweep: queue the deliveries whose next attempt is due."""
    due = Delivery.objects.filter(SENDABLE, next_attempt_at__lte=timezone.now())
    due = due.order_by("next_attempt_at")
    ids = list(due.values_list("pk", flat=True)[:DUE_BATCH])
    for delivery_id in ids:
        enqueue(delivery_id)
    return len(ids)


def max_attempts(delivery: Delivery) -> int:
    return 1 if delivery.event == TEST else settings.WEBHOOK_MAX_ATTEMPTS


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return timedelta(seconds=BACKOFF_S[min(attempts, len(BACKOFF_S)) - 1])


def deliver(delivery_id: str) -> str:
    """The task: one attempt of a due delivery; returns its status (or "not due")."""
    delivery = claim(delivery_id)
    if delivery is None:
        return "not due"
    try:
        outcome = attempt(delivery)
    except Exception as exc:  # a bug of ours must still end the attempt, not leave it leased
        log.exception("webhook delivery %s failed unexpectedly", delivery.pk)
        outcome = Outcome(ok=False, sent=False, error=f"Internal error: {type(exc).__name__}")
    return record(delivery, outcome)


def claim(delivery_id: str) -> Delivery | None:
    """Take a due delivery for one attempt, leasing it for the send's time; None if it is
    not due (sent, leased by another task, deleted, its webhook inactive)."""
    now = timezone.now()
    due = Delivery.objects.select_related("webhook").filter(
        SENDABLE, pk=delivery_id, next_attempt_at__lte=now
    )
    delivery = due.first()
    if delivery is None:
        return None
    if delivery.attempts >= max_attempts(delivery):  # its last attempt's worker died
        due.filter(attempts=delivery.attempts).update(
            status=Delivery.Status.FAILED, next_attempt_at=None
        )
        return None
    lease = now + timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_S + LEASE_MARGIN_S)
    taken = due.filter(attempts=delivery.attempts).update(
        attempts=delivery.attempts + 1, status=Delivery.Status.PENDING, next_attempt_at=lease
    )
    if not taken:
        return None
    delivery.attempts += 1
    return delivery


def attempt(delivery: Delivery) -> Outcome:
    """Check the target again and POST the signed payload to the address checked."""
    webhook = delivery.webhook
    try:
        target = addresses.check(webhook.url)
    except addresses.TargetRefused as refused:
        return Outcome(ok=False, sent=False, error=f"{refused.code}: {refused.message}")
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Pixelsmith-Event": delivery.event,
        "X-Pixelsmith-Delivery": str(delivery.pk),
        "X-Pixelsmith-Signature": transport.signature(webhook.secret, int(time.time()), body),
    }
    return transport.post(target, body, headers, settings.WEBHOOK_TIMEOUT_S)


def record(delivery: Delivery, outcome: Outcome) -> str:
    """Store the attempt's outcome, and when to try again (if ever)."""
    now = timezone.now()
    retry = not outcome.ok and delivery.attempts < max_attempts(delivery)
    status = Delivery.Status.SUCCEEDED if outcome.ok else Delivery.Status.FAILED
    entry = {
        "attempt": delivery.attempts,
        "at": now.isoformat(),
        "status": status,
        "responseStatus": outcome.response_status,
        "latencyMs": outcome.latency_ms,
        "error": outcome.error[:500],
    }
    Delivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
        status=status,
        response_status=outcome.response_status,
        latency_ms=outcome.latency_ms,
        error=outcome.error[:500],
        history=[*delivery.history, entry],
        next_attempt_at=now + backoff(delivery.attempts) if retry else None,
    )
    if not outcome.ok:
        log.info("webhook delivery %s attempt %s: %s", delivery.pk, delivery.attempts, entry)
    return str(status)
