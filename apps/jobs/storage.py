"""Where a job's files live: DATA_DIR/jobs/<id>/{in,work,out}.

Inputs are kept only until the job ends; the result stays until JOB_RESULT_TTL_HOURS.
"""

import queue
import shutil
import threading
from functools import cache
from pathlib import Path

from django.conf import settings

from apps.jobs.models import Job


def job_dir(job: Job) -> Path:
    return settings.DATA_DIR / "jobs" / str(job.id)


INPUTS, SCRATCH = "in", "work"  # a job folder's working subfolders (the result is in out/)


def inputs_dir(job: Job) -> Path:
    return job_dir(job) / INPUTS


def work_dir(job: Job) -> Path:
    return job_dir(job) / SCRATCH


def out_dir(job: Job) -> Path:
    return job_dir(job) / "out"


def result_path(job: Job) -> Path | None:
    """The stored result file, if the job has one and it still exists."""
    if not job.result_file:
        return None
    path = settings.DATA_DIR / job.result_file
    return path if path.is_file() else None


def keep_result(job: Job, produced: Path) -> Path:
    """Move a produced file into the job's out/ folder and record where it is."""
    target_dir = out_dir(job)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / ("result" + produced.suffix)
    produced.replace(target)
    job.result_file = str(target.relative_to(settings.DATA_DIR))
    job.result_size = target.stat().st_size
    return target


def discard_working_files(job: Job) -> None:
    """Inputs and scratch space go as soon as the job ends; the result stays."""
    _discard_working(job_dir(job))


def _discard_working(folder: Path) -> None:
    shutil.rmtree(folder / INPUTS, ignore_errors=True)
    shutil.rmtree(folder / SCRATCH, ignore_errors=True)


def discard_working_files_soon(job: Job) -> None:
    """`discard_working_files` on a background thread: removing files can take milliseconds
    on some file systems (journal, discard), which a request need not wait for. Files left
    by a process that stopped first go with the job's folder when its result expires."""
    _remover().put(job_dir(job))


@cache
def _remover() -> queue.SimpleQueue[Path]:
    folders: queue.SimpleQueue[Path] = queue.SimpleQueue()

    def remove() -> None:
        while True:
            _discard_working(folders.get())

    threading.Thread(target=remove, name="job-files-remover", daemon=True).start()
    return folders


def discard_result(job: Job) -> None:
    shutil.rmtree(out_dir(job), ignore_errors=True)


def discard_all(job: Job) -> None:
    shutil.rmtree(job_dir(job), ignore_errors=True)
