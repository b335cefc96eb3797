"""Every tool call, batch and pipeline is a Job row: steps over files, its state and result.

A job is an ordered list of steps (`{"toolId", "settings"}`) run once over all its inputs,
or over each input on its own (`each_file`: a batch). A tool call is one step, a pipeline
several; nothing else differs. `kind` is a label derived from that, for listings.
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.ownership import OwnedQuerySet

TERMINAL = ("completed", "failed", "cancelled")
PIPELINE = "pipeline"  # the tool_id label of a pipeline job


class Job(models.Model):
    """One unit of work, from submission to result (or error), persisted across restarts."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSING = "processing"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Kind(models.TextChoices):
        """The label of a job in listings; derived from its steps, never switched on."""

        TOOL = "tool"
        BATCH = "batch"
        PIPELINE = "pipeline"
        PIPELINE_BATCH = "pipeline-batch"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="jobs",
    )
    # The tool of a one-tool job; "pipeline" for pipelines (a label: `steps` is what runs).
    tool_id = models.CharField(max_length=64, blank=True)
    steps = models.JSONField(default=list)  # [{"toolId", "settings"}, ...] as validated
    each_file = models.BooleanField(default=False)  # a batch: the steps run per input file
    pipeline_id = models.UUIDField(null=True, blank=True)  # the saved pipeline it ran, if any
    queue = models.CharField(max_length=10, default="cpu")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    percent = models.FloatField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    message = models.CharField(max_length=300, blank=True)
    items_total = models.PositiveIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0)
    items_failed = models.PositiveIntegerField(default=0)
    input_names = models.JSONField(default=list)
    input_size = models.BigIntegerField(default=0)  # bytes uploaded, for X-Original-Size
    # Per input (same order): the library file id whose next version is this input's
    # result (`fileId` / `fileIds` in a request), or null.
    library_files = models.JSONField(default=list, blank=True)
    result_name = models.CharField(max_length=255, blank=True)  # the download name
    result_file = models.CharField(max_length=500, blank=True)  # path under DATA_DIR
    result_size = models.BigIntegerField(null=True, blank=True)
    result_media_type = models.CharField(max_length=100, blank=True)
    result_json = models.JSONField(null=True, blank=True)
    result_info = models.JSONField(default=dict, blank=True)
    engine = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True)
    model_sha256 = models.CharField(max_length=500, blank=True)
    device = models.CharField(max_length=100, blank=True)  # where it ran: cpu / gpu
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)  # HTTP status
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Runs given back after a database error (a blip, not the job's fault): they do not
    # count as attempts, up to apps.jobs.execute.INFRA_RETRIES.
    infra_retries = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When it was asked for (not auto_now_add: an inline job's row is written when it ends).
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.tool_id} job {self.id} ({self.status})"

    @property
    def is_pipeline(self) -> bool:
        return self.tool_id == PIPELINE

    @property
    def kind(self) -> str:
        if self.each_file:
            return self.Kind.PIPELINE_BATCH if self.is_pipeline else self.Kind.BATCH
        return self.Kind.PIPELINE if self.is_pipeline else self.Kind.TOOL

    @property
    def provenance_settings(self) -> dict[str, Any]:
        """What a library version made by this job records as its settings: the tool's
        settings for a tool call, the steps (and saved pipeline) for a pipeline."""
        if self.is_pipeline:
            pipeline_id = str(self.pipeline_id) if self.pipeline_id else None
            return {"steps": self.steps, "pipelineId": pipeline_id}
        return dict(self.steps[0]["settings"]) if self.steps else {}

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class StagedUpload(models.Model):
    """One file sent on its own (POST /api/v1/uploads) for a batch to name later by id.

    A batch is one request, and MAX_UPLOAD_SIZE_MB (and any proxy's body limit) caps a
    request: sending its files one request each first lifts that cap, which is how the
    browser sends batches of any size. The batch that names a staged file takes it over
    (the file moves into the job's folder); an unused one is deleted after
    JOB_RESULT_TTL_HOURS. Only its owner can use it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,  # AUTH_ENABLED=false: anonymous, like jobs
        related_name="staged_uploads",
    )
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.size} bytes)"
