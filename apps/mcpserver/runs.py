"""Running a tool or a pipeline for an MCP caller, through the submission service.

Inputs are library file ids or base64 image data, never URLs: the server fetches nothing
on a caller's behalf. Everything is checked (tool enabled, settings naming the bad field,
the caller may see the files, sizes) before any job exists.

Where results go, with `save_to_library` (the default):
- a library file as input: the image result becomes that file's next version (as
  `fileId` does on /api/v1/tools), with the job as its provenance;
- base64 as input: it is first stored as a new library file of the caller, then run as
  above, so the result has a file id and a download URL like any other;
- a tool taking no image (generators) or answering JSON/documents: nothing is added to
  the library; the result stays at the job's download URL (JOB_RESULT_TTL_HOURS).
Without it, the input is only read and the result stays with the job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from apps.core.errors import ApiError
from apps.core.ownership import owner_of
from apps.core.uploads import upload_from_base64
from apps.jobs import services
from apps.jobs.models import Job
from apps.jobs.placement import fast_cpu
from apps.jobs.steps import Step, enabled_tool, tool_step, validate_steps
from apps.library.models import StoredFile
from apps.library.services import store_upload, visible_file, visible_files
from tools.base import Inputs, Tool

_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*://|file:|www\.)", re.IGNORECASE)


@dataclass(frozen=True)
class Given:
    """What a caller sent as input: at most one of file_id, file_ids, image_base64."""

    file_id: str | None = None
    file_ids: Sequence[str] = ()
    image_base64: str | None = None
    filename: str = "image"
    save_to_library: bool = True

    def count(self) -> int:
        if self.file_ids:
            return len(self.file_ids)
        return int(bool(self.file_id) or bool(self.image_base64))


def run_tool(user: Any, tool_id: str, raw_settings: Any, given: Given, wait: bool) -> Job:
    """One tool over the input, as POST /api/v1/tools/<id> runs it."""
    tool = enabled_tool(tool_id)
    if raw_settings is not None and not isinstance(raw_settings, dict):
        raise ApiError(400, "INVALID_SETTINGS", "settings must be a JSON object")
    step = tool_step(tool, raw_settings)  # a bad setting never becomes a job
    return _submit(user, [step], given, wait, pipeline=False)


def run_pipeline(user: Any, raw_steps: Any, given: Given, wait: bool) -> Job:
    """Steps validated all before any runs (apps.jobs.steps), as /api/v1/pipeline/execute."""
    steps = validate_steps(raw_steps)
    return _submit(user, steps, given, wait, pipeline=True)


def _submit(user: Any, steps: Sequence[Step], given: Given, wait: bool, pipeline: bool) -> Job:
    uploads, from_library, save_to = inputs_for(user, steps[0].tool, given)
    work = services.Work(
        steps=steps,
        uploads=uploads,
        from_library=from_library,
        save_to=save_to,
        pipeline=pipeline,
    )
    # Fast CPU work runs in this call (stdio has no worker of its own to wait for); the
    # rest is queued, and the caller waits for it with progress (or not at all).
    here = wait and all(fast_cpu(s.tool) for s in steps)
    return services.submit(user, work, asynchronous=not here)


def inputs_for(
    user: Any, tool: Tool, given: Given
) -> tuple[list[UploadedFile], list[StoredFile], list[StoredFile]]:
    """(uploads, library inputs, library targets) for the submission service."""
    check_shape(tool, given)
    if given.image_base64:
        upload = upload_from_base64(given.image_base64, "image_base64", given.filename)
        if not given.save_to_library:
            return [upload], [], []
        files = [store_upload(owner_of(user), upload)]
    elif given.file_ids:
        files = visible_files(user, [str(i) for i in given.file_ids])
    elif given.file_id:
        files = [visible_file(user, given.file_id)]
    else:
        return [], [], []
    return [], files, files[:1] if given.save_to_library else []


def check_shape(tool: Tool, given: Given) -> None:
    """One kind of input, no URL, and as many images as the tool takes."""
    kinds = [bool(given.file_id), bool(given.file_ids), bool(given.image_base64)]
    if sum(kinds) > 1:
        raise ApiError(
            400, "VALIDATION_ERROR", "Give only one of file_id, file_ids or image_base64"
        )
    for value in [given.file_id, given.image_base64, *given.file_ids]:
        if isinstance(value, str) and _URL.match(value):
            raise ApiError(
                400,
                "URL_NOT_ALLOWED",
                "Inputs are library file ids or base64 image data, never URLs: upload the "
                "file (POST /api/v1/upload) and pass its id",
            )
    if len(given.file_ids) > settings.MAX_BATCH_SIZE:
        raise ApiError(400, "TOO_MANY_FILES", f"At most {settings.MAX_BATCH_SIZE} file_ids")
    _check_count(tool, given.count())


def _check_count(tool: Tool, count: int) -> None:
    low, high = _input_range(tool)
    if low <= count <= high:
        return
    if count == 0:
        raise ApiError(400, "NO_FILE", f"{tool.id} needs an input: file_id or image_base64")
    takes = f"{low}" if low == high else f"{low} to {high}"
    raise ApiError(400, "WRONG_INPUT_COUNT", f"{tool.id} takes {takes} input image(s), got {count}")


def _input_range(tool: Tool) -> tuple[int, int]:
    """The fewest and most images the tool takes."""
    fixed = {Inputs.NONE: (0, 0), Inputs.OPTIONAL: (0, 1), Inputs.ONE: (1, 1), Inputs.TWO: (2, 2)}
    return fixed.get(tool.inputs, (tool.min_inputs, settings.MAX_BATCH_SIZE))
