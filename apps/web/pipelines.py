"""The pipeline builder page: the tools a step may use (with their settings schemas) and
the saved pipelines, handed to static/web/pipelines.js, which does every write through
/api/v1/pipeline/* (session + CSRF)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from apps.jobs.steps import ToolPolicy, is_last_only, step_tools
from apps.pipelines.models import Pipeline
from apps.web.access import page, web_user
from apps.web.catalog import CATEGORIES
from tools.base import Tool


def step_entry(tool: Tool) -> dict[str, Any]:
    """A tool as the step picker shows it: what /api/v1/tools says, plus where it may go."""
    described = tool.describe()
    return {
        "id": tool.id,
        "name": tool.name,
        "description": tool.description,
        "category": str(CATEGORIES.get(tool.category, tool.category.title())),
        "output": tool.output.value,
        "lastOnly": is_last_only(tool),
        "settings": described.get("settings") or {"type": "object", "properties": {}},
    }


def step_catalog() -> list[dict[str, Any]]:
    """The tools usable as steps right now (visible, enabled, one image in), in category
    order, then by name: the same list as GET /api/v1/pipeline/tools."""
    order = {str(name): index for index, name in enumerate(CATEGORIES.values())}
    entries = [step_entry(tool) for tool in step_tools(ToolPolicy.current())]
    return sorted(entries, key=lambda e: (order.get(e["category"], len(order)), e["name"]))


def saved_pipelines(request: HttpRequest) -> list[dict[str, Any]]:
    """The saved pipelines this user may see (scoped like GET /api/v1/pipeline/list)."""
    rows = Pipeline.objects.visible_to(web_user(request))
    return [
        {
            "id": str(p.id),
            "name": p.name,
            "description": p.description,
            "steps": p.steps,
            "updatedAt": p.updated_at.isoformat(),
        }
        for p in rows
    ]


def script_strings() -> dict[str, str]:
    """Texts pipelines.js shows ({n}-style placeholders), translated like the template."""
    return {
        "stepTitle": _("Step {n}: {tool}"),
        "moveUp": _("Move step {n} up"),
        "moveDown": _("Move step {n} down"),
        "remove": _("Remove step {n} ({tool})"),
        "toggle": _("Settings of step {n}"),
        "noSettings": _("This tool has no settings."),
        "dragHint": _("Drag to reorder (or use the arrow buttons)"),
        "defaults": _("Default settings"),
        "movedTo": _("{tool} moved to position {n}"),
        "removed": _("Step {n} ({tool}) removed"),
        "added": _("{tool} added as step {n}"),
        "notAStep": _("Step {n} ({tool}): this tool cannot be a pipeline step"),
        "lastOnly": _("Step {n} ({tool}): its result cannot feed another step; it must be last"),
        "fieldError": _("Step {n} ({tool}): {field}: {message}"),
        "checking": _("Checking…"),
        "valid": _("Ready: {n} steps checked by the server"),
        "validOne": _("Ready: 1 step checked by the server"),
        "invalid": _("Fix the marked step before running or saving"),
        "empty": _("Add a step to start"),
        "lastOnlyBadge": _("last step only"),
        "noMatch": _("No tool matches your search."),
        "nameRequired": _("Give the pipeline a name"),
        "savedAs": _("Saved as “{name}”"),
        "loaded": _("Loaded “{name}”"),
        "stepsCount": _("{n} steps"),
        "oneStep": _("1 step"),
        "open": _("Open"),
        "load": _("Load"),
        "loadName": _("Load {name}"),
        "delete": _("Delete"),
        "deleteName": _("Delete {name}"),
        "noSaved": _("No saved pipelines yet."),
        "importBad": _("Not valid JSON: {message}"),
        "importShape": _("Expected {name, steps: [{toolId, settings}]} or a list of steps"),
        "importStep": _("Step {n}: expected {toolId, settings}"),
        "importUnknown": _("Step {n} ({tool}): not a tool this server can use as a step"),
        "importTooMany": _("A pipeline has at most {n} steps"),
        "imported": _("Imported {n} steps"),
        "run": _("Run"),
        "runOn": _("Run on {n} files"),
        "removeFile": _("Remove {name}"),
        "fromLibrary": _("library"),
        "uploading": _("Uploading… {n}%"),
        "tooMany": _("A batch takes at most {n} files"),
        "result": _("Result"),
        "batchSummary": _("{done} of {total} files done, {failed} failed"),
        "selectFile": _("Select {name}"),
        "noFiles": _("No files in your library match."),
        "page": _("Page {page} of {pages}"),
        "previous": _("Previous"),
        "next": _("Next"),
        "savedVersion": _("Library files get the result as a new version."),
    }


@page
def pipelines(request: HttpRequest) -> HttpResponse:
    """The builder: steps, live validation, saved pipelines, import/export and runs."""
    data = {
        "tools": step_catalog(),
        "saved": saved_pipelines(request),
        "maxSteps": settings.MAX_PIPELINE_STEPS,
        "load": request.GET.get("load", ""),
        # A library version's recipe to run again (its file page links here with both).
        "steps": request.GET.get("steps", ""),
        "file": request.GET.get("file", ""),
        "strings": script_strings(),
    }
    return render(request, "web/pipelines.html", {"pipeline_data": data})
