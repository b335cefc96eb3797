"""API keys: `si_` + 96 hex characters, shown once, stored only as SHA-256."""

import uuid

from django.conf import settings
from django.db import models

from apps.core.ownership import UserOwnedQuerySet


class ApiKey(models.Model):
    """A long-lived bearer credential acting with its owner's role."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # "si_" + first 8 hex: lets users recognise a key
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    is_api_key = True

    objects = UserOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
