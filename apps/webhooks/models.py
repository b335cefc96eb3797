"""Webhooks: a user's HTTP endpoint for events, and the log of what was sent to it.

A `Webhook` receives the events it subscribed to, signed with its secret (kept in clear:
an HMAC needs it; only its owner is shown it). Scope "own" covers the owner's jobs and
files; "all" (admins only) everyone's. Each event sent to a webhook is a `Delivery`,
retried with backoff until it succeeds or WEBHOOK_MAX_ATTEMPTS is reached; only the
last LOG_SIZE deliveries of a webhook are kept.
"""

import uuid

from django.conf import settings
from django.db import models

from apps.core.ownership import OwnedQuerySet

JOB_COMPLETED = "job.completed"
JOB_FAILED = "job.failed"
FILE_CREATED = "file.created"
FILE_DELETED = "file.deleted"
TEST = "webhook.test"  # sent by POST webhooks/<id>/test only; no one subscribes to it
EVENTS = (JOB_COMPLETED, JOB_FAILED, FILE_CREATED, FILE_DELETED)
LOG_SIZE = 50  # deliveries kept per webhook


def all_events() -> list[str]:
    return list(EVENTS)


class Webhook(models.Model):
    """An endpoint that gets the owner's (or, scope "all", everyone's) events by POST."""

    class Scope(models.TextChoices):
        OWN = "own"
        ALL = "all"  # admins only, checked again when an event is dispatched

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=all_events)
    active = models.BooleanField(default=True)
    scope = models.CharField(max_length=3, choices=Scope.choices, default=Scope.OWN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"webhook {self.id} → {self.url}"


class Delivery(models.Model):
    """One event for one webhook: its payload, and how its attempts went.

    `status` is the outcome of the last attempt (pending before the first one ends);
    `next_attempt_at` is set while an attempt is due or running (as a lease: a worker
    that died mid-send leaves it to the due sweep), and cleared once nothing is left to
    do. `history` lists every attempt: {at, responseStatus, latencyMs, error}.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    history = models.JSONField(default=list, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["webhook", "-created_at"], name="webhooks_log")]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status}, {self.attempts} attempts)"
