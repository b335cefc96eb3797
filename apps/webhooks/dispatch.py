"""From an event to deliveries: the receivers of the jobs' and the library's signals.

An event goes to the active webhooks subscribed to it of the user it concerns, and to
admins' scope-"all" webhooks (whoever it concerns), once to each. A delivery row is
written per webhook and handed to the queue; nothing here touches the network, as it
runs in the job's worker or the request that changed the library. Only the last LOG_SIZE
deliveries of a webhook are kept (a long outage of a busy receiver loses its oldest
undelivered events).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from apps.core.ownership import ADMIN_ROLE
from apps.jobs.models import Job
from apps.library.models import StoredFile
from apps.webhooks import payloads
from apps.webhooks.delivery import enqueue
from apps.webhooks.models import (
    FILE_CREATED,
    FILE_DELETED,
    JOB_COMPLETED,
    JOB_FAILED,
    LOG_SIZE,
    Delivery,
    Webhook,
)

log = logging.getLogger(__name__)
JOB_EVENTS: dict[str, str] = {Job.Status.COMPLETED: JOB_COMPLETED, Job.Status.FAILED: JOB_FAILED}


def any_active() -> bool:
    """Whether any webhook is active, in plain SQL: the ORM's query building costs more
    than the query, and most installs have none (every job's end asks; issue 14)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Webhook._meta.db_table} WHERE active LIMIT 1")  # noqa: S608
        return cursor.fetchone() is not None


def subscribers(event: str, owner_id: Any) -> list[Webhook]:
    """The active webhooks that get `event` about something `owner_id` owns (or nobody)."""
    if not any_active():
        return []
    everyone = Q(scope=Webhook.Scope.ALL, owner__role=ADMIN_ROLE)  # checked now, not at save
    concerned = everyone | Q(owner_id=owner_id) if owner_id else everyone
    return [hook for hook in Webhook.objects.filter(concerned, active=True) if event in hook.events]


def new_delivery(webhook: Webhook, event: str, data: dict[str, Any]) -> Delivery:
    """A pending delivery, due now; the webhook's log is trimmed to LOG_SIZE."""
    delivery_id = uuid.uuid4()
    delivery = Delivery.objects.create(
        id=delivery_id,
        webhook=webhook,
        event=event,
        payload=payloads.envelope(delivery_id, event, data),
        next_attempt_at=timezone.now(),
    )
    old = Delivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")[LOG_SIZE:]
    Delivery.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
    return delivery


def dispatch(event: str, owner_id: Any, data: Callable[[], dict[str, Any]]) -> int:
    """Write and queue `event`'s deliveries; `data` is built only if someone listens."""
    webhooks = subscribers(event, owner_id)
    if not webhooks:
        return 0
    body = data()
    for webhook in webhooks:
        enqueue(new_delivery(webhook, event, body).pk)
    return len(webhooks)


def on_job_finished(sender: Any, job: Job, **kwargs: Any) -> None:
    event = JOB_EVENTS.get(job.status)  # a cancelled job has no event
    if event is not None:
        dispatch(event, job.owner_id, lambda: payloads.job_data(job))


def on_file_created(sender: Any, file: StoredFile, **kwargs: Any) -> None:
    dispatch(FILE_CREATED, file.owner_id, lambda: payloads.file_data(file, file.pk))


def on_file_deleted(sender: Any, file: StoredFile, file_id: Any, **kwargs: Any) -> None:
    dispatch(FILE_DELETED, file.owner_id, lambda: payloads.file_data(file, file_id))
