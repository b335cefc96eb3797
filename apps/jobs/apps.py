from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "apps.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from apps.jobs import watchdog

        post_spawn.connect(watchdog.worker_started, dispatch_uid="pixelsmith-lost-job-watch")
