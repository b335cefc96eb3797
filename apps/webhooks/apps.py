from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed HTTP callbacks when jobs end and library files change."""

    name = "apps.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        # jobs and the library send signals: they sit below webhooks and never import it.
        from apps.jobs.signals import job_finished
        from apps.library.signals import file_created, file_deleted
        from apps.webhooks import dispatch

        job_finished.connect(dispatch.on_job_finished, dispatch_uid="webhooks-job-finished")
        file_created.connect(dispatch.on_file_created, dispatch_uid="webhooks-file-created")
        file_deleted.connect(dispatch.on_file_deleted, dispatch_uid="webhooks-file-deleted")
