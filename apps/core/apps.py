from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from apps.core import schema  # noqa: F401  (registers OpenAPI extensions)
        from tools import imaging

        # Same libvips threading and cache limits in web processes and workers.
        imaging.configure(settings.VIPS_CONCURRENCY)
