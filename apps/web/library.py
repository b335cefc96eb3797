"""The library pages: the grid of the user's files (search, sort, format, pages) and one
file's page (preview, metadata, version chain with provenance).

Both read the ORM with the API's own scoping (`files_visible_to`): a user sees their
files, an admin everyone's, and another user's file is the 404 page. Every change
(upload, delete) is made by the page's script through /api/v1.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.jobs.steps import ToolPolicy
from apps.library.models import FileVersion, StoredFile
from apps.library.services import files_visible_to
from apps.web.access import page, web_user
from apps.web.catalog import CATEGORIES
from tools import registry
from tools.base import Inputs

PAGE_SIZE = 24
# sort parameter -> (label, ORDER BY); the id breaks ties so that pages never overlap.
SORTS: dict[str, tuple[Any, tuple[str, str]]] = {
    "-date": (_("Newest first"), ("-updated_at", "-id")),
    "date": (_("Oldest first"), ("updated_at", "id")),
    "name": (_("Name A–Z"), ("search_name", "id")),
    "-name": (_("Name Z–A"), ("-search_name", "-id")),
    "-size": (_("Largest first"), ("-size", "-id")),
    "size": (_("Smallest first"), ("size", "id")),
}
DEFAULT_SORT = "-date"
# Formats a browser shows in an <img>; others are previewed through their JPEG thumbnail.
BROWSER_FORMATS = frozenset({"jpeg", "png", "webp", "gif", "avif"})
SOURCES = {"upload": _("Uploaded"), "tool": _("Tool"), "pipeline": _("Pipeline")}


def script_strings() -> dict[str, str]:
    """Texts the library scripts show ({n}-style placeholders), translated."""
    return {
        "selected": gettext("{n} selected"),
        "deleteTitle": gettext("Delete {n} files?"),
        "deleteText": gettext(
            "{names} will be deleted with all their versions. This cannot be undone."
        ),
        "deleteOneTitle": gettext("Delete this file?"),
        "deleteOneText": gettext(
            "{name} will be deleted with all its versions. This cannot be undone."
        ),
        "deleted": gettext("Deleted {n} files"),
        "uploading": gettext("Uploading…"),
        "uploaded": gettext("Added to the library"),
        "uploadedN": gettext("{n} files added to the library"),
        "downloading": gettext("Downloading {n} files…"),
    }


def page_number(raw: str | None) -> int:
    """A 1-based page number from the query string; anything else is page 1."""
    try:
        return max(1, min(int(raw or 1), 1_000_000))
    except ValueError:
        return 1


def filters(request: HttpRequest) -> dict[str, str]:
    """The grid's query: search text, sort and format (unknown values fall back)."""
    sort = request.GET.get("sort", DEFAULT_SORT)
    return {
        "q": request.GET.get("q", "").strip()[:200],
        "sort": sort if sort in SORTS else DEFAULT_SORT,
        "format": request.GET.get("format", "").strip().lower()[:10],
    }


def matching(files: QuerySet[StoredFile], chosen: dict[str, str]) -> QuerySet[StoredFile]:
    """The files that match the search text (any case) and format, sorted."""
    if chosen["q"]:
        files = files.filter(search_name__contains=chosen["q"].casefold())
    if chosen["format"]:
        files = files.filter(format=chosen["format"])
    return files.order_by(*SORTS[chosen["sort"]][1])


def page_link(chosen: dict[str, str], number: int) -> str:
    """The grid's URL for page `number` with the same search, sort and format."""
    query = {key: value for key, value in chosen.items() if value}
    if query.get("sort") == DEFAULT_SORT:
        del query["sort"]
    if number > 1:
        query["page"] = str(number)
    return f"/library?{urlencode(query)}" if query else "/library"


def pages_around(current: Page, chosen: dict[str, str]) -> list[dict[str, Any]]:
    """Links to the first, last and nearby pages (None for a gap)."""
    last = current.paginator.num_pages
    shown = sorted({1, last, *range(max(1, current.number - 2), min(last, current.number + 2) + 1)})
    links: list[dict[str, Any]] = []
    for number in shown:
        if links and number - links[-1]["number"] > 1:
            links.append({"number": None})
        links.append(
            {
                "number": number,
                "url": page_link(chosen, number),
                "current": number == current.number,
            }
        )
    return links


@page
def library(request: HttpRequest) -> HttpResponse:
    """The grid of visible files, one page of it, with the search/sort/format form."""
    user = web_user(request)
    visible = files_visible_to(user)
    chosen = filters(request)
    paginator = Paginator(matching(visible, chosen), PAGE_SIZE)
    current = paginator.get_page(page_number(request.GET.get("page")))
    present = set(visible.order_by().values_list("format", flat=True).distinct())
    formats = sorted((present | {chosen["format"]}) - {""})
    context = {
        "files": current.object_list,
        "current": current,
        "total": paginator.count,
        "has_any": paginator.count > 0 or visible.exists(),
        "chosen": chosen,
        "sorts": [(key, label) for key, (label, _order) in SORTS.items()],
        "formats": formats,
        "pages": pages_around(current, chosen) if paginator.num_pages > 1 else [],
        "previous_url": page_link(chosen, current.number - 1) if current.has_previous() else "",
        "next_url": page_link(chosen, current.number + 1) if current.has_next() else "",
        "filtered": bool(chosen["q"] or chosen["format"]),
        "library_strings": script_strings(),
    }
    return render(request, "web/library.html", context)


def visible_or_none(request: HttpRequest, file_id: str) -> StoredFile | None:
    """The file if the signed-in user may see it (ids that are no UUID are not found)."""
    try:
        pk = UUID(file_id)
    except ValueError:
        return None
    return files_visible_to(web_user(request)).filter(pk=pk).first()


def tool_label(tool_id: str) -> str:
    tool = registry.get(tool_id)
    return tool.name if tool is not None else tool_id


def setting_items(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Settings as (name, value) pairs to show: strings as they are, the rest as JSON."""
    return [
        (key, value if isinstance(value, str) else json.dumps(value))
        for key, value in sorted(settings.items())
    ]


def rerun_url(stored: StoredFile, version: FileVersion) -> str:
    """The tool page (or the pipeline builder, for a pipeline's version), set up to run this
    version's recipe on the file."""
    if version.source == FileVersion.Source.PIPELINE:
        steps = (version.settings or {}).get("steps") or []
        if not steps:
            return ""
        query = urlencode(
            {"file": str(stored.pk), "steps": json.dumps(steps, separators=(",", ":"))}
        )
        return f"/pipelines?{query}"
    if version.source != FileVersion.Source.TOOL or not version.tool_id:
        return ""
    settings = json.dumps(version.settings or {}, separators=(",", ":"))
    query = urlencode({"file": str(stored.pk), "settings": settings})
    return f"/tools/{version.tool_id}?{query}"


def version_entry(stored: StoredFile, version: FileVersion) -> dict[str, Any]:
    """A version as the file page lists it: facts, provenance and links."""
    base = f"/api/v1/files/{stored.pk}"
    pipeline_steps = []
    if version.source == FileVersion.Source.PIPELINE:
        steps = (version.settings or {}).get("steps") or []
        pipeline_steps = [
            {
                "name": tool_label(str(s.get("toolId", ""))),
                "settings": json.dumps(s.get("settings") or {}, indent=2),
            }
            for s in steps
            if isinstance(s, dict)
        ]
    return {
        "v": version,
        "source_label": SOURCES.get(version.source, version.source),
        "tool_name": tool_label(version.tool_id) if version.tool_id else "",
        "settings": [] if pipeline_steps else setting_items(version.settings or {}),
        "settings_json": json.dumps(version.settings or {}, separators=(",", ":")),
        "steps": pipeline_steps,
        "download_url": f"{base}/download?version={version.number}",
        "thumbnail_url": f"{base}/thumbnail?version={version.number}",
        "rerun_url": rerun_url(stored, version),
        "preview_url": f"/library/{stored.pk}?version={version.number}",
    }


def tools_for_files() -> list[dict[str, Any]]:
    """Enabled tools that take one image, by category, for "Open in a tool"."""
    policy = ToolPolicy.current()
    groups: dict[str, list[Any]] = {}
    for tool in policy.visible_tools():
        if tool.inputs is Inputs.ONE and tool.id not in policy.disabled:
            groups.setdefault(tool.category, []).append(tool)
    order = list(CATEGORIES) + sorted(set(groups) - set(CATEGORIES))
    return [
        {
            "name": CATEGORIES.get(key, key.title()),
            "tools": sorted(groups[key], key=lambda t: t.name),
        }
        for key in order
        if key in groups
    ]


def shown_version(request: HttpRequest, stored: StoredFile, versions: list[FileVersion]) -> Any:
    """`?version=N` if the file has it, else the latest version."""
    wanted = page_number(request.GET.get("version") or str(stored.latest_version))
    return next((v for v in versions if v.number == wanted), versions[0] if versions else None)


@page
def library_file(request: HttpRequest, file_id: str) -> HttpResponse:
    """One file: preview, facts, its versions newest first with their provenance."""
    stored = visible_or_none(request, file_id)
    if stored is None:
        return render(request, "web/not_found.html", status=404)
    versions = list(stored.versions.order_by("-number"))
    shown = shown_version(request, stored, versions)
    base = f"/api/v1/files/{stored.pk}"
    number = shown.number if shown else stored.latest_version
    context = {
        "file": stored,
        "versions": [version_entry(stored, v) for v in versions],
        "shown": shown,
        "preview_url": (
            f"{base}/download?version={number}"
            if shown and shown.format in BROWSER_FORMATS
            else f"{base}/thumbnail?version={number}"
        ),
        "tool_groups": tools_for_files(),
        "page_data": {"fileId": str(stored.pk), "name": stored.name},
        "library_strings": script_strings(),
    }
    return render(request, "web/library_file.html", context)


@page
def open_in_tool(request: HttpRequest, file_id: str) -> HttpResponse:
    """The "Open in a tool" form's target: the chosen tool's page with this file."""
    stored = visible_or_none(request, file_id)
    tool = registry.get(request.GET.get("tool", ""))
    if stored is None:
        return render(request, "web/not_found.html", status=404)
    if tool is None:
        return redirect(f"/library/{stored.pk}")
    return redirect(f"/tools/{tool.id}?{urlencode({'file': str(stored.pk)})}")
