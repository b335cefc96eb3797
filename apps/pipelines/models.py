"""Saved pipelines: a named list of steps that its owner (or an admin) can run by id."""

import uuid

from django.conf import settings
from django.db import models

from apps.core.ownership import OwnedQuerySet


class Pipeline(models.Model):
    """A named, reusable list of `{"toolId", "settings"}` steps.

    The steps are stored as sent (after validation) and validated again on every run:
    a tool may have been disabled, or its settings tightened, since the pipeline was saved.
    `owner` is empty only for pipelines saved anonymously while AUTH_ENABLED=false.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pipelines",
    )
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=1000, blank=True)
    steps = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({len(self.steps)} steps)"
