"""Validating a pipeline: every step, in order, before any step runs.

A pipeline is a JSON list of `{"toolId", "settings"}`. Each step must name a tool that
exists, is visible and enabled, takes ONE image, and gets valid settings; a step whose
output is not an image (JSON, a document, several images) can only be the last. The
first problem found raises a `ToolError` naming the step (`Step 3 (compress): ...`),
which DRF's handler turns into the error response. The same function guards the HTTP
request, saving, and the worker about to run the job (a tool may have been disabled
while it waited), so what runs is always what was validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.siteconfig.registry import get_setting
from tools import registry, runner
from tools.base import Inputs, OutputKind, Tool, ToolError, ToolSettings

INVALID = "PIPELINE_INVALID"
_TAKES = {
    Inputs.NONE: "no file",
    Inputs.OPTIONAL: "an optional file",
    Inputs.TWO: "two files",
    Inputs.MANY: "several files",
}


@dataclass(frozen=True)
class Step:
    """One validated step: its 1-based number, tool, parsed and raw settings."""

    number: int
    tool: Tool
    settings: ToolSettings
    raw_settings: dict[str, Any]

    @property
    def label(self) -> str:
        return f"Step {self.number} ({self.tool.id})"

    def as_json(self) -> dict[str, Any]:
        """The step as stored in a job or a saved pipeline."""
        return {"toolId": self.tool.id, "settings": self.raw_settings}


@dataclass(frozen=True)
class ToolPolicy:
    """What the admin allows right now: disabled tool ids, experimental tools shown or not."""

    disabled: frozenset[str]
    experimental: bool

    @classmethod
    def current(cls) -> ToolPolicy:
        return cls(
            frozenset(get_setting("disabledTools")), bool(get_setting("enableExperimentalTools"))
        )

    def visible(self, tool: Tool) -> bool:
        return self.experimental or not tool.experimental


def step_tools(policy: ToolPolicy) -> list[Tool]:
    """Tools usable as pipeline steps: visible, enabled, taking one image (any position
    when they output an image, last only otherwise)."""
    return [
        t
        for t in registry.all_tools()
        if policy.visible(t) and t.id not in policy.disabled and t.inputs is Inputs.ONE
    ]


def validate_steps(raw: Any) -> list[Step]:
    """Validated steps from a raw (parsed JSON) list; raises ToolError on the first problem."""
    if not isinstance(raw, list):
        raise ToolError(INVALID, "pipeline must be a JSON list of {toolId, settings} steps")
    if not raw:
        raise ToolError(INVALID, "pipeline has no steps")
    limit = settings.MAX_PIPELINE_STEPS
    if len(raw) > limit:
        raise ToolError("TOO_MANY_STEPS", f"a pipeline has at most {limit} steps, got {len(raw)}")
    policy = ToolPolicy.current()
    steps: list[Step] = []
    for number, item in enumerate(raw, start=1):
        steps.append(_validate_step(number, item, policy, steps[-1] if steps else None))
    return steps


def _validate_step(number: int, item: Any, policy: ToolPolicy, previous: Step | None) -> Step:
    tool = _step_tool(number, item, policy)
    label = f"Step {number} ({tool.id})"
    if tool.inputs is not Inputs.ONE:
        raise ToolError(
            INVALID,
            f"{label}: {tool.id} takes {_TAKES[tool.inputs]}; "
            "only tools taking one image can be pipeline steps",
        )
    if previous is not None and previous.tool.output is not OutputKind.IMAGE:
        kind = previous.tool.output.value
        raise ToolError(
            INVALID,
            f"{previous.label}: its output ({kind}) is not an image and cannot feed "
            f"step {number} ({tool.id}); a step that outputs {kind} must be the last",
        )
    raw_settings = item.get("settings")
    raw_settings = {} if raw_settings is None else raw_settings
    try:
        parsed = runner.validate_settings(tool, raw_settings)
    except ToolError as exc:
        raise ToolError(exc.code, f"{label}: {exc.message}", exc.status) from None
    return Step(number, tool, parsed, raw_settings)


def _step_tool(number: int, item: Any, policy: ToolPolicy) -> Tool:
    """The step's tool: 400 if the step is malformed or the tool unknown, 403 if disabled."""
    tool_id = item.get("toolId") if isinstance(item, dict) else None
    if not isinstance(tool_id, str) or not tool_id:
        raise ToolError(INVALID, f"Step {number}: a step is an object with a string 'toolId'")
    tool = registry.get(tool_id)
    if tool is None or not policy.visible(tool):
        raise ToolError("TOOL_NOT_FOUND", f"Step {number} ({tool_id[:64]}): unknown tool")
    if tool.id in policy.disabled:
        raise ToolError(
            "TOOL_DISABLED",
            f"Step {number} ({tool.id}): the tool '{tool.id}' is disabled by an administrator",
            403,
        )
    return tool
