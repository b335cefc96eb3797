"""Running a pipeline job: each step's output is the next step's input.

`run_pipeline_job` is what `apps.jobs.execute.perform` calls for the kinds pipeline and
pipeline-batch. The steps are validated again first (a tool may have been disabled
while the job waited). A step that fails fails the file with the step's own error code,
and a message naming the step and how many steps completed. Intermediate files are
removed as soon as the next step has read them, so a long chain does not fill the disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from apps.jobs import storage
from apps.jobs.execute import Outcome, Reporter, download_name, stored_sources
from apps.jobs.models import Job
from apps.pipelines.steps import Step, validate_steps
from tools import imaging, runner
from tools.base import Context, Output, Source, ToolError

TAG = "pipeline"


def run_pipeline_job(job: Job, reporter: Reporter) -> Outcome:
    """Run the job's steps on its file (pipeline) or on each of its files (pipeline-batch)."""
    steps = validate_steps(job.settings.get("steps"))
    if job.kind == Job.Kind.PIPELINE_BATCH:
        from apps.jobs.batch import zip_each

        return zip_each(job, reporter, partial(run_steps, steps), TAG)
    source = stored_sources(job)[0]
    output = run_steps(steps, source, reporter.context(storage.work_dir(job)))
    return Outcome.from_output(output, download_name(source.name, output.filename, TAG))


def run_steps(steps: Sequence[Step], source: Source, ctx: Context) -> Output:
    """The whole chain on one file; the result names every step's engine.

    Each intermediate result is opened under the original file's name, so errors and
    the final download name still refer to the file the user sent.
    """
    outputs: list[Output] = []
    current = source
    for step in steps:
        ctx.check_cancelled()
        output = _run_step(step, current, len(steps), len(outputs), ctx)
        if current is not source:
            current.path.unlink(missing_ok=True)  # the intermediate has been read
        outputs.append(output)
        if len(outputs) < len(steps):
            current = imaging.open_source(_image_path(step, output), source.name)
    return _combined(steps, outputs)


def _run_step(step: Step, source: Source, total: int, done: int, ctx: Context) -> Output:
    """One step, its progress mapped into the chain's (`Step 2/3 (compress): ...`)."""
    label = f"Step {step.number}/{total} ({step.tool.id})"

    def progress(percent: float, message: str = "") -> None:
        share = min(max(percent, 0.0), 100.0) / 100
        ctx.progress((done + share) / total * 100, f"{label}: {message}" if message else label)

    progress(0)
    try:
        return runner.execute(step.tool, [source], step.settings, replace(ctx, progress=progress))
    except ToolError as exc:
        message = f"{step.label} failed after {done} completed step(s): {exc.message}"
        raise ToolError(exc.code, message, exc.status) from exc


def _image_path(step: Step, output: Output) -> Path:
    """The file an image step wrote (validation guarantees only the last step is not one)."""
    if output.path is None:
        raise ToolError("PROCESSING_FAILED", f"{step.label} produced no image", 422)
    return output.path


def _combined(steps: Sequence[Step], outputs: Sequence[Output]) -> Output:
    """The last step's output, credited to every step: `resize: libvips 8.18; ...`."""
    pairs = list(zip(steps, outputs, strict=True))
    engine = "; ".join(f"{s.tool.id}: {o.engine}" for s, o in pairs if o.engine)
    model = "; ".join(f"{s.tool.id}: {o.model}" for s, o in pairs if o.model)
    return replace(outputs[-1], engine=engine, model=model or None)
