"""Runtime settings an admin changes without a restart."""

from django.db import models


class SiteSetting(models.Model):
    """One known setting (see apps.siteconfig.registry) and its JSON value."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
