"""Running a tool as a Job: the row, the scratch directory, the outcome.

Today every call runs inline in the request; the queue (django-q2 `cpu`/`gpu`
clusters) takes over for slow tools, batches and pipelines.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.jobs.models import Job
from tools import runner
from tools.base import Context, Output, Source, Tool, ToolError, ToolSettings

log = logging.getLogger(__name__)


def scratch_dir(job: Job) -> Path:
    return settings.TMP_DIR / "jobs" / str(job.id)


def start_job(tool: Tool, owner: Any, raw_settings: dict[str, Any], input_names: list[str]) -> Job:
    return Job.objects.create(
        owner=owner if owner is not None and owner.is_authenticated else None,
        kind="tool",
        tool_id=tool.id,
        settings=raw_settings,
        input_names=input_names,
        status=Job.Status.PROCESSING,
        started_at=timezone.now(),
    )


def fail_job(job: Job, code: str, message: str) -> None:
    job.status = Job.Status.FAILED
    job.error_code = code
    job.error_message = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error_code", "error_message", "finished_at"])


def complete_job(job: Job, output: Output) -> None:
    job.status = Job.Status.COMPLETED
    job.engine = output.engine
    job.model = output.model or ""
    job.result_name = output.filename
    job.result_size = output.path.stat().st_size if output.path else None
    job.finished_at = timezone.now()
    job.save(
        update_fields=["status", "engine", "model", "result_name", "result_size", "finished_at"]
    )


def run_inline(
    job: Job, tool: Tool, sources: Sequence[Source], tool_settings: ToolSettings
) -> Output:
    """Run the tool now; the job row records the outcome either way."""
    ctx = Context(
        scratch_dir=scratch_dir(job) / "out",
        max_megapixels=settings.MAX_MEGAPIXELS,
    )
    try:
        output = runner.execute(tool, sources, tool_settings, ctx)
    except ToolError as exc:
        fail_job(job, exc.code, exc.message)
        raise
    except Exception:
        fail_job(job, "INTERNAL_ERROR", "The tool failed unexpectedly")
        raise
    complete_job(job, output)
    return output


def discard_scratch(job: Job) -> None:
    shutil.rmtree(scratch_dir(job), ignore_errors=True)
