"""Validating steps: every step, in order, before any step runs.

A job's steps are a JSON list of `{"toolId", "settings"}`. Each step must name a tool
that exists, is visible and enabled, and gets valid settings, and the steps must link
up (`tools.chain.check_links`: the first step takes the job's inputs, every later one
the image the step before produced). The first problem raises a `ToolError` naming the
step (`Step 3 (compress): ...`). The same functions guard the HTTP request, saving a
pipeline, and the worker about to run the job (a tool may have been disabled while it
waited), so what runs is always what was validated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.jobs.models import Job
from apps.siteconfig.registry import all_settings
from tools import registry, runner
from tools.base import Inputs, OutputKind, Tool, ToolError
from tools.chain import INVALID, Step, check_links

__all__ = [
    "INVALID",
    "Step",
    "ToolPolicy",
    "enabled_tool",
    "is_last_only",
    "job_steps",
    "step_tools",
    "tool_step",
    "validate_steps",
]


@dataclass(frozen=True)
class ToolPolicy:
    """What the admin allows right now: disabled tool ids, experimental tools shown or not."""

    disabled: frozenset[str]
    experimental: bool

    @classmethod
    def current(cls) -> ToolPolicy:
        runtime = all_settings()  # one query for both: this is every tool call's path
        return cls(frozenset(runtime["disabledTools"]), bool(runtime["enableExperimentalTools"]))

    def visible(self, tool: Tool) -> bool:
        return self.experimental or not tool.experimental

    def visible_tools(self) -> list[Tool]:
        return [t for t in registry.all_tools() if self.visible(t)]


def step_tools(policy: ToolPolicy) -> list[Tool]:
    """Tools usable after the first step of a pipeline: visible, enabled, taking one image
    (any position when they output an image, last only otherwise)."""
    return [
        t for t in policy.visible_tools() if t.id not in policy.disabled and t.inputs is Inputs.ONE
    ]


def enabled_tool(tool_id: str) -> Tool:
    """The tool a caller names: 404 if unknown (or hidden), 403 if an admin disabled it."""
    tool = registry.get(tool_id)
    policy = ToolPolicy.current()
    if tool is None or not policy.visible(tool):
        raise ToolError("TOOL_NOT_FOUND", f"Unknown tool: {tool_id[:64]}", 404)
    if tool.id in policy.disabled:
        raise ToolError(
            "TOOL_DISABLED", f"The tool '{tool.id}' is disabled by an administrator", 403
        )
    return tool


def tool_step(tool: Tool, raw_settings: Any) -> Step:
    """The one step of a tool call; bad settings raise INVALID_SETTINGS naming the field."""
    return Step(1, tool, runner.validate_settings(tool, raw_settings), dict(raw_settings or {}))


def validate_steps(raw: Any, each_file: bool = False) -> list[Step]:
    """Validated steps from a raw (parsed JSON) list; raises ToolError on the first problem."""
    if not isinstance(raw, list):
        raise ToolError(INVALID, "pipeline must be a JSON list of {toolId, settings} steps")
    if not raw:
        raise ToolError(INVALID, "pipeline has no steps")
    limit = settings.MAX_PIPELINE_STEPS
    if len(raw) > limit:
        raise ToolError("TOO_MANY_STEPS", f"a pipeline has at most {limit} steps, got {len(raw)}")
    policy = ToolPolicy.current()
    tools: list[Tool] = []
    steps: list[Step] = []
    for number, item in enumerate(raw, start=1):
        tools.append(_step_tool(number, item, policy))
        check_links(tools, each_file)  # before the settings: the first problem, in order
        steps.append(_with_settings(number, tools[-1], item))
    return steps


def job_steps(job: Job) -> list[Step]:
    """A stored job's steps, validated again just before they run."""
    if job.is_pipeline:
        return validate_steps(job.steps, each_file=job.each_file)
    first = job.steps[0] if job.steps else {}
    tool_id = first.get("toolId", "")
    system = registry.system_tool(tool_id)  # created by the server itself (model downloads)
    if system is not None:
        return [tool_step(system, first.get("settings"))]
    tool = registry.get(tool_id)
    if tool is None:
        raise ToolError("TOOL_NOT_FOUND", f"Unknown tool: {job.tool_id}", 404)
    if tool.id in ToolPolicy.current().disabled:
        raise ToolError(
            "TOOL_DISABLED", f"The tool '{tool.id}' is disabled by an administrator", 403
        )
    return [tool_step(tool, first.get("settings"))]


def _with_settings(number: int, tool: Tool, item: dict[str, Any]) -> Step:
    raw_settings = item.get("settings")
    raw_settings = {} if raw_settings is None else raw_settings
    try:
        parsed = runner.validate_settings(tool, raw_settings)
    except ToolError as exc:
        raise ToolError(exc.code, f"Step {number} ({tool.id}): {exc.message}", exc.status) from None
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


def is_last_only(tool: Tool) -> bool:
    """A tool whose output (JSON, a document, several images) cannot feed another step."""
    return tool.output is not OutputKind.IMAGE
