"""Every tool call is a Job row, so each response can name its job (X-Job-Id)."""

import uuid

from django.conf import settings
from django.db import models


class Job(models.Model):
    """One unit of work and its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="jobs",
    )
    kind = models.CharField(max_length=20, default="tool")
    tool_id = models.CharField(max_length=64)
    settings = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    input_names = models.JSONField(default=list)
    result_name = models.CharField(max_length=255, blank=True)
    result_size = models.BigIntegerField(null=True, blank=True)
    engine = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.tool_id} job {self.id} ({self.status})"
