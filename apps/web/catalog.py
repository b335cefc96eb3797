"""The tool catalog as the UI shows it: tools by category, with each AI tool's readiness
(available, or which models it still needs) from /system/features' own code."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.jobs.steps import ToolPolicy
from apps.system.features import tool_readiness
from tools.base import Tool

# The order categories appear in on the home page, with their display names.
CATEGORIES: dict[str, Any] = {
    "essentials": _("Essentials"),
    "ai": _("AI tools"),
    "optimization": _("Optimization"),
    "adjustments": _("Adjustments"),
    "enhancement": _("Enhancement"),
    "watermark": _("Watermark and text"),
    "layout": _("Layout and composition"),
    "format": _("Formats and conversion"),
    "utilities": _("Utilities"),
}


def readiness(tool: Tool) -> dict[str, Any] | None:
    """None for a tool that needs no model; else whether it can run, the models that would
    make it run (the first choice of each unmet need) and the commands that install them."""
    if not tool.models:
        return None
    found = tool_readiness(settings.MODELS_DIR, tool.id)
    usable = {m["id"] for m in found["models"] if m["installed"] and m["engineAvailable"]}
    missing = [group[0] for group in found["needs"] if group and not usable & set(group)]
    return {
        "available": found["available"],
        "missingModels": missing,
        "missing": found["missing"],
        "fix": found["fix"],
    }


def tool_entry(tool: Tool, policy: ToolPolicy) -> dict[str, Any]:
    return {
        "id": tool.id,
        "name": tool.name,
        "description": tool.description,
        "category": tool.category,
        "inputs": tool.inputs.value,
        "output": tool.output.value,
        "enabled": tool.id not in policy.disabled,
        "readiness": readiness(tool),
    }


def grouped_tools() -> list[dict[str, Any]]:
    """[{id, name, tools: [...]}] in CATEGORIES order (unknown categories last)."""
    policy = ToolPolicy.current()
    groups: dict[str, list[dict[str, Any]]] = {}
    for tool in policy.visible_tools():
        groups.setdefault(tool.category, []).append(tool_entry(tool, policy))
    order = list(CATEGORIES) + sorted(set(groups) - set(CATEGORIES))
    return [
        {"id": key, "name": CATEGORIES.get(key, key.title()), "tools": groups[key]}
        for key in order
        if key in groups
    ]
