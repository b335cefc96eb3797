from django.apps import AppConfig


class ModelsConfig(AppConfig):
    """The AI model catalog: what is installed, installing, importing (apps/models)."""

    name = "apps.models"
    label = "models"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from apps.models import runtime

        runtime.configure()
        post_spawn.connect(runtime.worker_started, dispatch_uid="pixelsmith-worker-started")
