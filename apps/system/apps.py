from django.apps import AppConfig


class SystemConfig(AppConfig):
    """What this server can do and how it is doing: hardware, AI tool readiness, the
    admin's doctor and the Prometheus /metrics (apps/system)."""

    name = "apps.system"
    label = "system"
    default_auto_field = "django.db.models.BigAutoField"
