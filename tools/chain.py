"""Chaining: steps run over inputs, each step's output the next step's input.

A job is a list of steps. A tool call is one step, a pipeline several; a batch runs the
same steps over each of its files (the caller loops; see apps/jobs/batch.py). This module
is the engine side, free of Django: it checks that the steps link up (`check_links`)
and runs them with one `Context` (`run_steps`): progress is spread across the steps,
a cancel is seen between steps, and intermediate files are removed as soon as the next
step has read them, so a long chain does not fill the disk.

The first step takes the job's inputs, whatever their number (collage of many files →
resize); every later step takes the single image the step before produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tools import imaging, runner
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolError

INVALID = "PIPELINE_INVALID"
_TAKES = {
    Inputs.NONE: "no file",
    Inputs.OPTIONAL: "an optional file",
    Inputs.TWO: "two files",
    Inputs.MANY: "several files",
}


@dataclass(frozen=True)
class Step:
    """One validated step: its 1-based number, its tool, its parsed settings, and the
    settings as sent (what a job or a saved pipeline stores)."""

    number: int
    tool: Tool
    settings: BaseModel
    raw_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"Step {self.number} ({self.tool.id})"

    def as_json(self) -> dict[str, Any]:
        return {"toolId": self.tool.id, "settings": self.raw_settings}


def check_links(tools: Sequence[Tool], each_file: bool) -> None:
    """Raise PIPELINE_INVALID (400) naming the first step that cannot take its input.

    Steps after the first take one image, and only an image step can feed another. The
    first step of a per-file run (a batch) takes one image too; otherwise it takes the
    job's inputs, whatever their number.
    """
    for index, tool in enumerate(tools):
        label = f"Step {index + 1} ({tool.id})"
        if (index or each_file) and tool.inputs is not Inputs.ONE:
            why = (
                "only tools taking one image can be pipeline steps"
                if index
                else "a batch runs the steps on each file alone, so its first step takes one image"
            )
            raise ToolError(INVALID, f"{label}: {tool.id} takes {_TAKES[tool.inputs]}; {why}")
        previous = tools[index - 1] if index else None
        if previous is not None and previous.output is not OutputKind.IMAGE:
            kind = previous.output.value
            raise ToolError(
                INVALID,
                f"Step {index} ({previous.id}): its output ({kind}) is not an image and cannot "
                f"feed step {index + 1} ({tool.id}); a step that outputs {kind} must be the last",
            )


def run_steps(
    steps: Sequence[Step], sources: Sequence[Source], ctx: Context, *, pipeline: bool = True
) -> Output:
    """The whole chain over `sources`.

    Each intermediate result is opened under the first input's name, so errors and the
    download name still refer to the file the user sent. A `pipeline` names its steps:
    progress reads `Step 2/3 (compress): ...`, a failing step's message says which step
    failed and how many completed, and the result credits each step's engine and model
    (`resize: libvips; compress: ...`). A plain tool call (`pipeline=False`, one step)
    keeps the tool's own progress, messages and engine.
    """
    outputs: list[Output] = []
    current = list(sources)
    name = sources[0].name if sources else steps[0].tool.id
    for step in steps:
        ctx.check_cancelled()
        output = _run_step(step, current, len(steps), len(outputs), ctx, pipeline)
        if outputs:  # the intermediate file has been read
            current[0].path.unlink(missing_ok=True)
        outputs.append(output)
        if len(outputs) < len(steps):
            current = [imaging.open_source(_image_path(step, output), name)]
    return _combined(steps, outputs) if pipeline else outputs[-1]


def _run_step(
    step: Step,
    sources: Sequence[Source],
    total: int,
    done: int,
    ctx: Context,
    pipeline: bool,
) -> Output:
    """One step, its progress mapped into the chain's (`Step 2/3 (compress): ...`)."""
    if not pipeline:
        step_ctx = ctx
    else:
        label = f"Step {step.number}/{total} ({step.tool.id})"

        def progress(percent: float, message: str = "") -> None:
            share = min(max(percent, 0.0), 100.0) / 100
            text = f"{label}: {message}" if message else label
            ctx.progress((done + share) / total * 100, text)

        progress(0)
        step_ctx = ctx.derive(progress=progress)
    try:
        return runner.execute(step.tool, sources, step.settings, step_ctx)
    except ToolError as exc:
        if not pipeline:
            raise
        message = f"{step.label} failed after {done} completed step(s): {exc.message}"
        raise ToolError(exc.code, message, exc.status) from exc


def _image_path(step: Step, output: Output) -> Path:
    """The file an image step wrote (check_links guarantees only the last is not one)."""
    if output.path is None:
        raise ToolError("PROCESSING_FAILED", f"{step.label} produced no image", 422)
    return output.path


def _combined(steps: Sequence[Step], outputs: Sequence[Output]) -> Output:
    """The last step's output, credited to every step: `resize: libvips 8.18; ...`."""
    pairs = list(zip(steps, outputs, strict=True))
    engine = "; ".join(f"{s.tool.id}: {o.engine}" for s, o in pairs if o.engine)
    model = "; ".join(f"{s.tool.id}: {o.model}" for s, o in pairs if o.model)
    sha = "; ".join(f"{s.tool.id}: {o.model_sha256}" for s, o in pairs if o.model_sha256)
    devices = {o.device for o in outputs}
    device = (
        devices.pop()
        if len(devices) == 1
        else "; ".join(f"{s.tool.id}: {o.device}" for s, o in pairs)
    )
    return replace(
        outputs[-1], engine=engine, model=model or None, model_sha256=sha or None, device=device
    )
