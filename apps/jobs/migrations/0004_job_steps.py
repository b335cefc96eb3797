"""A job is steps over files: `steps` + `each_file` replace `kind` + the per-kind `settings`."""

from django.db import migrations, models

PIPELINE_KINDS = ("pipeline", "pipeline-batch")
BATCH_KINDS = ("batch", "pipeline-batch")


def to_steps(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    for job in Job.objects.all().iterator():
        settings = job.settings if isinstance(job.settings, dict) else {}
        if job.kind in PIPELINE_KINDS:
            job.steps = settings.get("steps") or []
            job.pipeline_id = settings.get("pipelineId") or None
            job.tool_id = "pipeline"
        else:
            job.steps = [{"toolId": job.tool_id, "settings": settings}]
        job.each_file = job.kind in BATCH_KINDS
        job.save(update_fields=["steps", "each_file", "pipeline_id", "tool_id"])


def to_kinds(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    for job in Job.objects.all().iterator():
        if job.tool_id == "pipeline":
            job.kind = "pipeline-batch" if job.each_file else "pipeline"
            pipeline_id = str(job.pipeline_id) if job.pipeline_id else None
            job.settings = {"steps": job.steps, "pipelineId": pipeline_id}
        else:
            job.kind = "batch" if job.each_file else "tool"
            job.settings = job.steps[0]["settings"] if job.steps else {}
        job.save(update_fields=["kind", "settings"])


class Migration(migrations.Migration):
    dependencies = [("jobs", "0003_job_library_files")]

    operations = [
        migrations.AddField(model_name="job", name="steps", field=models.JSONField(default=list)),
        migrations.AddField(
            model_name="job", name="each_file", field=models.BooleanField(default=False)
        ),
        migrations.AddField(
            model_name="job",
            name="pipeline_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.RunPython(to_steps, to_kinds),
        migrations.RemoveField(model_name="job", name="kind"),
        migrations.RemoveField(model_name="job", name="settings"),
    ]
