"""Helpers for the jobs, queue and maintenance tests: Job rows made directly, uploads."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.jobs import storage
from apps.jobs.models import Job
from tests.badfiles import FIXTURES

PHOTO = (FIXTURES / "photo.jpg").read_bytes()


def photo(name: str = "photo.jpg", data: bytes = PHOTO) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def post_tool(client: Any, tool_id: str, settings: dict[str, Any], **extra: Any) -> Any:
    """POST one photo to a tool; `extra` are more form fields or request headers (HTTP_*)."""
    headers = {k: v for k, v in extra.items() if k.startswith("HTTP_")}
    data = {"file": photo(), "settings": json.dumps(settings)}
    data.update({k: v for k, v in extra.items() if not k.startswith("HTTP_")})
    return client.post(f"/api/v1/tools/{tool_id}", data, format="multipart", **headers)


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def make_job(
    owner: Any = None,
    status: str = Job.Status.QUEUED,
    tool_id: str = "compress",
    duration_s: float | None = None,
    settings: dict[str, Any] | None = None,
    **fields: Any,
) -> Job:
    """A Job row as the queue would leave it: one step, `tool_id` with `settings`.
    `duration_s` gives a finished job its span."""
    fields.setdefault("steps", [{"toolId": tool_id, "settings": settings or {}}])
    job = Job.objects.create(owner=owner, status=status, tool_id=tool_id, **fields)
    if duration_s is not None:
        finished = fields.get("finished_at") or timezone.now()
        job.started_at = finished - timedelta(seconds=duration_s)
        job.finished_at = finished
        job.save(update_fields=["started_at", "finished_at"])
    return job


def with_result(job: Job, data: bytes = PHOTO, name: str = "photo_resize.jpg") -> Job:
    """Give a job a stored result file, as execute.complete leaves it."""
    path = storage.out_dir(job) / "result.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    job.status = Job.Status.COMPLETED
    job.result_file = str(path.relative_to(settings.DATA_DIR))
    job.result_name, job.result_size, job.result_media_type = name, len(data), "image/jpeg"
    job.percent = 100
    job.finished_at = job.finished_at or timezone.now()
    job.save()
    return job


def with_input(job: Job, data: bytes = PHOTO, name: str = "photo.jpg") -> Job:
    """Store an input file for the job, as create_job does."""
    folder = storage.inputs_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(len(job.input_names))).write_bytes(data)
    job.input_names = [*job.input_names, name]
    job.save(update_fields=["input_names"])
    return job


def sse_text(response: Any) -> str:
    """All of an (async) SSE response's body, read until the server ends the stream."""

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(collect)().decode()


def sse_events(response: Any) -> list[dict[str, Any]]:
    return [
        json.loads(line.removeprefix("data: "))
        for line in sse_text(response).splitlines()
        if line.startswith("data: ")
    ]


def settled_tree(
    folder: Path,
    expected: list[str],
    timeout: float = 10,
    gone: Sequence[str] = (storage.INPUTS, storage.SCRATCH),
) -> list[str]:
    """`tree(folder)` once it is `expected` and the `gone` subfolders are removed too (an
    inline job's working files and folders go on a background thread, right after the
    answer: its files first, then the emptied folders), or as it is after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = tree(folder)
        except FileNotFoundError:  # a folder went while we walked it
            found = None
        settled = found == expected and not any((folder / name).exists() for name in gone)
        if settled or (found is not None and time.monotonic() >= deadline):
            return found
        time.sleep(0.02)


def tree(folder: Path) -> list[str]:
    """The files under `folder`, relative, sorted ([] if it does not exist)."""
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
