"""The home page (the tool grid) and the tool page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.jobs.steps import ToolPolicy
from apps.web.access import page
from apps.web.catalog import grouped_tools, tool_entry
from apps.web.tool_text import tool_strings
from tools import collage, registry
from tools.base import Tool


@page
def home(request: HttpRequest) -> HttpResponse:
    groups = grouped_tools()
    return render(
        request,
        "web/home.html",
        {"groups": groups, "tool_count": sum(len(g["tools"]) for g in groups)},
    )


def widget_data(tool: Tool) -> dict[str, Any]:
    """What a tool's custom widgets need beyond the schema (the collage templates' cells)."""
    if tool.id == "collage":
        return {
            "collageTemplates": {name: list(cells) for name, cells in collage.TEMPLATES.items()}
        }
    return {}


def other_tools(policy: ToolPolicy, current: Tool) -> list[dict[str, str]]:
    """The enabled one-image tools a result can continue into ("continue with another tool")."""
    return [
        {"id": t.id, "name": t.name}
        for t in policy.visible_tools()
        if t.id != current.id and t.id not in policy.disabled and t.inputs.value == "one"
    ]


@page
def tool_page(request: HttpRequest, tool_id: str) -> HttpResponse:
    policy = ToolPolicy.current()
    tool = registry.get(tool_id)
    if tool is None or not policy.visible(tool):
        return render(request, "web/not_found.html", status=404)
    entry = {
        **tool_entry(tool, policy),
        **tool.describe(),
        "minInputs": tool.min_inputs,
        "widgets": widget_data(tool),
        "nextTools": other_tools(policy, tool),
    }
    return render(request, "web/tool.html", {"tool": entry, "tool_strings": tool_strings()})
