from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed HTTP callbacks when jobs end and library files change."""

    name = "apps.webhooks"
    label = "webhooks"
