"""The file library: files with a chain of versions, whose bytes are content-addressed blobs.

A `StoredFile` is what a user sees (a name and its latest version); each processing
result becomes a new `FileVersion`, so nothing is overwritten. Versions point at a `Blob`,
one per distinct content, so identical uploads are stored once.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.core.ownership import OwnedQuerySet


class Blob(models.Model):
    """Bytes in the `library` storage, keyed by their sha256; shared by every version with them."""

    sha256 = models.CharField(primary_key=True, max_length=64)
    size = models.BigIntegerField()
    key = models.CharField(max_length=200)  # the storage name: blobs/<2 hex>/<2 hex>/<sha256>
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"blob {self.sha256[:12]} ({self.size} B)"


class StoredFile(models.Model):
    """A user's file: its display name and, denormalised for listing, its latest version's facts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,  # files uploaded while AUTH_ENABLED=false belong to nobody, like jobs
        blank=True,
        related_name="library_files",
        db_index=False,  # the indexes below all start with owner
    )
    name = models.CharField(max_length=255)  # for display only; never part of a path
    # name.casefold(): search and sort alike on SQLite (ASCII-only LIKE) and PostgreSQL.
    search_name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)  # the latest version's time
    latest_version = models.PositiveIntegerField(default=0)
    version_count = models.PositiveIntegerField(default=0)
    size = models.BigIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    format = models.CharField(max_length=10, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        # One index per sort of GET /files; the id breaks ties so pages never overlap.
        # Admins list everyone's files: the default sort (newest first) has its own.
        indexes = [
            models.Index(fields=["owner", "updated_at", "id"], name="library_owner_date"),
            models.Index(fields=["owner", "search_name", "id"], name="library_owner_name"),
            models.Index(fields=["owner", "size", "id"], name="library_owner_size"),
            models.Index(fields=["updated_at", "id"], name="library_date"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.latest_version})"


class FileVersion(models.Model):
    """One immutable version of a file, with where it came from (its provenance)."""

    class Source(models.TextChoices):
        UPLOAD = "upload"
        TOOL = "tool"
        PIPELINE = "pipeline"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.ForeignKey(StoredFile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()  # 1..n within the file
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="versions")
    size = models.BigIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    media_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=Source.choices)
    tool_id = models.CharField(max_length=64, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    engine = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True)
    model_sha256 = models.CharField(max_length=500, blank=True)
    device = models.CharField(max_length=100, blank=True)
    app_version = models.CharField(max_length=32)
    job = models.ForeignKey(
        "jobs.Job",
        on_delete=models.SET_NULL,  # jobs expire after JOB_RESULT_TTL_HOURS; versions stay
        null=True,
        blank=True,
        related_name="library_versions",
    )
    # Which of the job's inputs this version is the result of: a job saves each input's
    # result once, however often it is retried.
    job_input = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["file", "number"], name="library_version_number"),
            models.UniqueConstraint(
                fields=["job", "job_input"],
                condition=models.Q(job__isnull=False),
                name="library_version_once_per_job_input",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_id} v{self.number}"
