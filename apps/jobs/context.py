"""A running job's Context: one place builds it (`context_for`), one Reporter feeds it.

Progress and cancellation go through the Job row, which is what SSE streams and what
the cancel endpoint writes. A job run inside its own request gets a QuietReporter:
nobody can watch or cancel it yet, so its progress costs no database writes.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from apps.jobs import storage
from apps.jobs.models import Job
from tools.ai.store import process_store
from tools.base import Context

PROGRESS_INTERVAL_S = 0.5
_DIGITS = re.compile(r"\d+")  # a message without its numbers names its stage
log = logging.getLogger(__name__)


class Reporter:
    """Progress and cancellation for one job, through its row, at most twice a second."""

    watched = True  # someone may follow the job (SSE, polling) or cancel it

    def __init__(self, job_id: Any) -> None:
        self.job_id = job_id
        self.last_write = 0.0
        self.last_check = 0.0
        self.last_stage = ""
        self.cancelled = False

    def progress(self, percent: float, message: str = "", **fields: Any) -> None:
        """Written at most twice a second, except a new stage ("encoding avif" after
        "computing pixels: 95 %"): the next call may come only after a long silent step."""
        now = time.monotonic()
        stage = _DIGITS.sub("#", message)
        soon = now - self.last_write < PROGRESS_INTERVAL_S
        if soon and percent < 100 and not fields and stage == self.last_stage:
            return
        self.last_write, self.last_stage = now, stage
        update = {"percent": round(max(0.0, min(percent, 100.0)), 1), "message": message[:300]}
        try:
            Job.objects.filter(pk=self.job_id).update(
                **update, **fields, heartbeat_at=timezone.now()
            )
        except DatabaseError:  # a blip must not end the job: progress is told again soon
            if fields:  # item counts are part of the record: the run has to be given back
                raise
            log.debug("progress of job %s not written", self.job_id, exc_info=True)

    def is_cancelled(self) -> bool:
        now = time.monotonic()
        if not self.cancelled and now - self.last_check >= PROGRESS_INTERVAL_S:
            self.last_check = now
            try:
                self.cancelled = Job.objects.filter(pk=self.job_id, cancel_requested=True).exists()
            except DatabaseError:  # unknown for now: asked again at the next check
                log.debug("cancel of job %s not read", self.job_id, exc_info=True)
        return self.cancelled


class QuietReporter(Reporter):
    """For jobs run inside their own request (the caller learns the job id with the result)."""

    watched = False

    def progress(self, percent: float, message: str = "", **fields: Any) -> None:
        if fields:  # item counts are part of the record, not just progress
            Job.objects.filter(pk=self.job_id).update(**fields)

    def is_cancelled(self) -> bool:
        return False


def device_for(job: Job) -> str:
    """The device this process gives the job: the GPU only in a GPU worker (a process
    serving the `gpu` queue) running a job placed there; anywhere else the CPU."""
    return "gpu" if job.queue == "gpu" and settings.Q_CLUSTER_NAME == "gpu" else "cpu"


def context_for(job: Job, reporter: Reporter) -> Context:
    """The Context every step of `job` runs with: its scratch dir, progress and cancel
    through `reporter`, the pixel limit, the device, and this process's model store."""
    return Context(
        scratch_dir=storage.work_dir(job),
        progress=reporter.progress,
        is_cancelled=reporter.is_cancelled,
        device=device_for(job),
        max_megapixels=settings.MAX_MEGAPIXELS,
        models=process_store(),
        model_dir=settings.MODELS_DIR,
        watched=reporter.watched,
    )
