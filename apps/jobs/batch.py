"""Batches: a job's steps run on each of its files, the results streamed into a ZIP.

`zip_each` runs every job with `each_file` (tool batches and pipeline batches alike).
Up to CONCURRENT_JOBS files run at once in worker threads (libvips
releases the GIL). The calling thread alone writes the ZIP and the Job row: it adds each
result as soon as it is ready and deletes it right after, so memory and scratch space stay
flat however many files there are. A file that fails is recorded in manifest.json and the
batch goes on; only a batch in which every file failed fails (ALL_FILES_FAILED, 422).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings

from apps.jobs import storage
from apps.jobs.context import PROGRESS_INTERVAL_S, Reporter
from apps.jobs.models import Job
from apps.jobs.results import Outcome, save_version
from tools import imaging
from tools.base import Cancelled, Context, Output, OutputKind, Source, ToolError

log = logging.getLogger(__name__)

Process = Callable[[Source, Context], Output]
Result = Output | ToolError

MANIFEST = "manifest.json"
MAX_STEM_BYTES = 150  # file systems allow 255 bytes; leave room for " (12).jpeg"
# Proxies and clients cap response headers (nginx buffers 4-8 KB by default, Node 16 KB in
# all); past this the per-file results are in manifest.json and the job's status only.
FILE_RESULTS_HEADER_MAX = 16 * 1024
FILE_LIST_INTERVAL_S = 1.0
# Printable ASCII passes through (so the header stays readable and about as long as its
# JSON); %, + and every other byte are percent-encoded (decodeURIComponent undoes it).
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "%+")
_NOT_IN_FILE_NAMES = re.compile(r'[<>:"/\\|?*]')  # Windows refuses these when unzipping
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{d}{i}" for d in ("com", "lpt") for i in range(10)}


@dataclass
class FileResult:
    """One file's line in manifest.json (and in the job's result info)."""

    index: int
    name: str
    status: str
    output: str | None = None
    error: dict[str, str] | None = None
    savedVersion: int | None = None


def safe_stem(name: str) -> str:
    """The stem of an uploaded name, fit for a ZIP entry on any OS.

    No folders, no control or bidi characters, no `..` and no leading dot (hidden files,
    zip-slip), no characters Windows refuses, no reserved device names, capped in bytes.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    text = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    stem = re.sub(r"\.{2,}", ".", _NOT_IN_FILE_NAMES.sub("_", Path(text).stem)).strip(" .")
    stem = stem.encode()[:MAX_STEM_BYTES].decode("utf-8", errors="ignore").strip(" .")
    if stem.split(".")[0].lower() in _RESERVED:
        stem = f"_{stem}"
    return stem or "file"


def entry_stems(names: Sequence[str], tag: str = "") -> list[str]:
    """One unique stem per file, decided in upload order: `a_resize`, `a_resize (2)`…

    Named as a single download is (`<stem>_<tool or pipeline>`), so unzipping beside the
    originals overwrites none of them. Unique regardless of case (Windows and macOS unzip
    case-insensitively), and never `manifest` (that entry is ours). Deciding stems up
    front keeps the names the same whatever order the files finish in.
    """
    taken = {Path(MANIFEST).stem}
    stems = []
    for name in names:
        stem = candidate = safe_stem(name) + (f"_{tag}" if tag else "")
        copy = 2
        while candidate.lower() in taken:
            candidate, copy = f"{stem} ({copy})", copy + 1
        taken.add(candidate.lower())
        stems.append(candidate)
    return stems


def compression_for(output: Output) -> int:
    """Images and archives are compressed already: storing them is as small and far faster."""
    media = output.media_type
    textual = media.startswith("text/") or media.endswith(("/json", "+xml", "+json"))
    return zipfile.ZIP_DEFLATED if output.kind is OutputKind.JSON or textual else zipfile.ZIP_STORED


class BatchZip:
    """The result ZIP, written by one thread: an entry per finished file, manifest.json last."""

    def __init__(
        self,
        archive: zipfile.ZipFile,
        names: Sequence[str],
        keep: Callable[[int, Output], int | None] | None = None,
        tag: str = "",
    ) -> None:
        self.archive = archive
        self.keep = keep  # saves a file's output to the library; returns the version number
        self.names = list(names)
        self.stems = entry_stems(self.names, tag)
        self.results: dict[int, FileResult] = {}
        self.credit: Output | None = None  # the first result: what made the batch's files

    @property
    def completed(self) -> int:
        return sum(r.status == "completed" for r in self.results.values())

    @property
    def failed(self) -> int:
        return len(self.results) - self.completed

    def settle(self, index: int, result: Result) -> None:
        """Add a finished file's output (then delete it), or record why it failed."""
        if (
            isinstance(result, Output)
            and result.kind is not OutputKind.JSON
            and result.path is None
        ):
            result = ToolError("PROCESSING_FAILED", "The tool produced no file", 500)
        if isinstance(result, ToolError):
            error = {"code": result.code, "message": result.message}
            self.results[index] = FileResult(index, self.names[index], "failed", error=error)
            return
        if result.path is None:
            entry = f"{self.stems[index]}.json"
            self.archive.writestr(entry, json_bytes(result.data), zipfile.ZIP_DEFLATED)
        else:
            entry = self.stems[index] + Path(result.filename).suffix.lower()
            self.archive.write(result.path, entry, compression_for(result))
        version = self.keep(index, result) if self.keep and result.path else None
        if result.path is not None:
            result.path.unlink(missing_ok=True)
        self.credit = self.credit or result
        self.results[index] = FileResult(
            index, self.names[index], "completed", output=entry, savedVersion=version
        )

    def summary(self) -> dict[str, Any]:
        """Counts, and one line per finished file in upload order."""
        return {
            "total": len(self.names),
            "completed": self.completed,
            "failed": self.failed,
            "files": [asdict(self.results[i]) for i in sorted(self.results)],
        }

    def finish(self) -> dict[str, Any]:
        """Write manifest.json; return it."""
        summary = self.summary()
        self.archive.writestr(MANIFEST, json_bytes(summary), zipfile.ZIP_DEFLATED)
        return summary


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()


class FileRunner:
    """Runs `process` on a job's files, CONCURRENT_JOBS at a time, in worker threads.

    Only the caller's thread touches the database: it polls for a cancel between files
    and sets `stop`, which every file's Context reads, so no new file starts and a running
    tool stops at its next tile or step boundary. Worker threads never use the database.
    """

    def __init__(self, job: Job, reporter: Reporter, ctx: Context, process: Process) -> None:
        self.job = job
        self.reporter = reporter
        self.ctx = ctx  # the job's; each file gets a copy with its own scratch and progress
        self.process = process
        self.total = len(job.input_names)
        self.finished = 0
        self.stop = threading.Event()
        # Progress (0..1) of each running file. Keys are added and removed by the caller's
        # thread only; workers just overwrite their own value, which is safe under the GIL.
        self.fractions: dict[int, float] = {}

    def results(self) -> Iterator[tuple[int, Result]]:
        """Each file's output or error as it finishes; raises Cancelled once stopped."""
        waiting = iter(range(self.total))
        running: dict[Future[Result], int] = {}
        with ThreadPoolExecutor(settings.CONCURRENT_JOBS, thread_name_prefix="batch") as pool:
            try:
                while True:
                    if self.reporter.is_cancelled():
                        self.stop.set()
                    self._start(pool, waiting, running)
                    if not running:
                        break
                    yield from self._finished(running)
                    self.reporter.progress(self.percent(), self.message())  # throttled
            except GeneratorExit:  # the caller failed (disk full...): running files stop early
                self.stop.set()
                raise
        if self.stop.is_set():
            raise Cancelled()

    def _finished(self, running: dict[Future[Result], int]) -> Iterator[tuple[int, Result]]:
        """Wait up to PROGRESS_INTERVAL_S for files to end (so cancels are seen); yield them."""
        done, _ = wait(running, timeout=PROGRESS_INTERVAL_S, return_when=FIRST_COMPLETED)
        for future in done:
            index = running.pop(future)
            del self.fractions[index]
            self.finished += 1
            yield index, future.result()  # a Cancelled raised by a stopped tool goes up

    def _start(
        self, pool: ThreadPoolExecutor, waiting: Iterator[int], running: dict[Future[Result], int]
    ) -> None:
        """Start files until CONCURRENT_JOBS run, none is left, or the batch is stopped."""
        while len(running) < settings.CONCURRENT_JOBS and not self.stop.is_set():
            index = next(waiting, None)
            if index is None:
                return
            self.fractions[index] = 0.0
            running[pool.submit(self._run_one, index)] = index

    def _run_one(self, index: int) -> Result:
        """In a worker thread: one file, its failure returned rather than raised."""
        name = self.job.input_names[index]
        ctx = self.ctx.derive(
            scratch_dir=file_scratch(self.job, index),
            progress=partial(self._file_progress, index),
            is_cancelled=self.stop.is_set,
        )
        try:
            source = imaging.open_source(storage.inputs_dir(self.job) / str(index), name)
            return self.process(source, ctx)
        except ToolError as exc:
            return exc
        except Cancelled:
            raise
        except Exception:  # a bug on one file must not sink the others; it is logged
            log.exception(
                "batch job %s: file %d (%s) failed unexpectedly", self.job.pk, index, name
            )
            return ToolError("PROCESSING_FAILED", f"{name} could not be processed", 500)

    def _file_progress(self, index: int, percent: float, message: str = "") -> None:
        self.fractions[index] = min(max(percent, 0.0), 100.0) / 100

    def percent(self) -> float:
        share = sum(self.fractions.values())
        return (self.finished + share) / self.total * 100 if self.total else 100.0

    def message(self) -> str:
        return f"{self.finished}/{self.total} files"


def file_scratch(job: Job, index: int) -> Path:
    return storage.work_dir(job) / "files" / str(index)


def zip_each(job: Job, reporter: Reporter, ctx: Context, process: Process, tag: str) -> Outcome:
    """Run `process(source, ctx)` on each of the job's stored files; the results as one ZIP.

    `process` runs in a worker thread, so it must not use the database; its `ctx` is the
    job's `ctx` with a scratch dir of its own and the batch's cancel flag, and it feeds
    the job's progress. The
    ZIP's entries are `<original stem>_<tag>` with the output's extension, then
    manifest.json. Raises Cancelled (a cancel between files) or ALL_FILES_FAILED (422).
    """
    path = storage.work_dir(job) / "batch.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    files = FileRunner(job, reporter, ctx, process)
    listed = 0.0  # when the finished files' lines were last written to the job
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        batch = BatchZip(archive, job.input_names, library_keeper(job), tag)
        for index, result in files.results():
            batch.settle(index, result)
            shutil.rmtree(file_scratch(job, index), ignore_errors=True)
            imaging.release_cached_files()  # the file's deleted outputs, closed
            fields: dict[str, Any] = {"items_done": batch.completed, "items_failed": batch.failed}
            if time.monotonic() - listed >= FILE_LIST_INTERVAL_S:
                # Each file's status as it finishes (the job detail shows it while the batch
                # runs), rewritten at most once a second however fast files finish.
                fields["result_info"] = batch.summary()
                listed = time.monotonic()
            reporter.progress(files.percent(), files.message(), **fields)
        summary = batch.finish()
    if not batch.completed:
        raise ToolError("ALL_FILES_FAILED", all_failed_message(summary), 422)
    name = f"batch-{tag}-{job.pk.hex[:8]}.zip"
    credit = batch.credit
    return Outcome(
        path=path,
        name=name,
        media_type="application/zip",
        info=summary,
        engine=credit.engine if credit else "",
        model=credit.model or "" if credit else "",
        device=credit.device if credit else "",
        model_sha256=credit.model_sha256 or "" if credit else "",
    )


def library_keeper(job: Job) -> Callable[[int, Output], int | None] | None:
    """For batches that name library files (fileIds): save each image result as a version."""
    if not any(job.library_files):
        return None

    def keep(index: int, output: Output) -> int | None:
        version = save_version(job, index, output)
        return version.number if version else None

    return keep


def all_failed_message(summary: dict[str, Any]) -> str:
    first = next(iter(summary["files"]), None)
    if first is None:
        return "The batch has no files"
    return f"All {summary['total']} files failed; {first['name']}: {first['error']['message']}"


def file_results_header(files: Sequence[dict[str, Any]]) -> str | None:
    """X-File-Results: `{"<index>": {"name", "status", "output"}}` as percent-encoded JSON.

    None when it would be longer than FILE_RESULTS_HEADER_MAX (see manifest.json then).
    """
    results = {
        str(f["index"]): {"name": f["name"], "status": f["status"], "output": f["output"]}
        for f in files
    }
    text = json.dumps(results, ensure_ascii=False, separators=(",", ":"))
    encoded = quote(text, safe=_HEADER_SAFE)
    return encoded if len(encoded) <= FILE_RESULTS_HEADER_MAX else None
