"""/api/v1/tools: the catalog, POST /api/v1/tools/<toolId> to run one tool, and /batch."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.jobs import responses
from apps.jobs import services as jobs
from apps.jobs.models import Job
from apps.library import links
from apps.siteconfig.registry import all_settings, get_setting
from tools import registry, runner
from tools.base import Inputs, Tool

# Multipart field names for each input kind; later names are accepted aliases.
FILE_FIELDS = ("file", "image")
SECOND_FILE_FIELDS = ("overlay", "file2", "second")
MANY_FILES_FIELD = "files"


def visible_tools() -> list[Tool]:
    experimental = bool(get_setting("enableExperimentalTools"))
    return [t for t in registry.all_tools() if experimental or not t.experimental]


def enabled_tool(tool_id: str) -> Tool:
    """The tool, or 404 if unknown (or hidden), 403 if an admin disabled it."""
    tool = registry.get(tool_id)
    runtime = all_settings()  # one query for both checks: this is every tool call's path
    if tool is None or (tool.experimental and not runtime["enableExperimentalTools"]):
        raise ApiError(404, "TOOL_NOT_FOUND", f"Unknown tool: {tool_id}")
    if tool.id in runtime["disabledTools"]:
        raise ApiError(
            403, "TOOL_DISABLED", f"The tool '{tool.id}' is disabled by an administrator"
        )
    return tool


def parse_settings_field(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):  # a JSON array body instead of multipart
        raise ApiError(400, "INVALID_REQUEST_BODY", "Send multipart/form-data: file + settings")
    raw = request.data.get("settings")
    if raw is None or raw == "":
        return {}
    if isinstance(raw, UploadedFile):
        raw = raw.read().decode("utf-8", errors="replace")
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, "INVALID_SETTINGS_JSON", f"settings is not valid JSON: {exc.msg}"
        ) from None
    if not isinstance(value, dict):
        raise ApiError(400, "INVALID_SETTINGS_JSON", "settings must be a JSON object")
    return value


def uploads_for(tool: Tool, request: Request) -> list[UploadedFile]:
    """The uploaded files in the order the tool takes them."""

    def first(fields: tuple[str, ...]) -> UploadedFile | None:
        return next((request.FILES[f] for f in fields if f in request.FILES), None)

    if tool.inputs is Inputs.NONE:
        return []
    if tool.inputs is Inputs.MANY:
        files = request.FILES.getlist(MANY_FILES_FIELD) or request.FILES.getlist("file")
        if not files:
            raise ApiError(400, "NO_FILE", "No files uploaded: send multipart fields 'files'")
        return files
    main = first(FILE_FIELDS)
    if tool.inputs is Inputs.OPTIONAL:
        return [main] if main is not None else []
    if main is None:
        raise ApiError(400, "NO_FILE", "No file uploaded: send a multipart field 'file'")
    if tool.inputs is Inputs.ONE:
        return [main]
    second = first(SECOND_FILE_FIELDS)
    if second is None:
        raise ApiError(400, "NO_FILE", f"{tool.id} needs a second file in the field 'overlay'")
    return [main, second]


def has_file(request: Request) -> bool:
    return any(field in request.FILES for field in FILE_FIELDS)


def wants_async(request: Request) -> bool:
    """`Prefer: respond-async` (RFC 7240) or a form field async=true."""
    prefer = request.META.get("HTTP_PREFER", "").lower()
    flag = str(request.data.get("async", "")).lower() if isinstance(request.data, dict) else ""
    return "respond-async" in prefer or flag in {"1", "true", "yes"}


def submit(request: Request, job: Job, inline: bool) -> Any:
    """Run or queue the job; answer 202 (async) or wait and answer with its result."""
    if wants_async(request):
        jobs.enqueue(job)
        return responses.accepted(job)
    if inline:
        return responses.result_of(request, jobs.run_now(job))
    jobs.enqueue(job)
    return responses.result_of(request, jobs.wait_for(job))


class ToolListView(APIView):
    """The catalog: every tool with its settings JSON schema."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="tools_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        disabled = set(get_setting("disabledTools"))
        tools = [{**t.describe(), "enabled": t.id not in disabled} for t in visible_tools()]
        return Response({"tools": tools})


class ToolView(APIView):
    """GET describes one tool; POST runs it on the uploaded file(s)."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="tools_describe", responses={200: dict})
    def get(self, request: Request, tool_id: str) -> Response:
        tool = enabled_tool(tool_id)
        return Response({**tool.describe(), "enabled": True})

    @extend_schema(exclude=True)
    def post(self, request: Request, tool_id: str) -> Any:
        tool = enabled_tool(tool_id)
        raw_settings = parse_settings_field(request)
        # fileId is no tool setting: it names the library file to read and/or version.
        target = links.target_file(request.user, raw_settings.pop("fileId", None))
        runner.validate_settings(tool, raw_settings)  # a bad setting never becomes a job
        from_library = (
            [target] if target and tool.inputs is Inputs.ONE and not has_file(request) else []
        )
        uploads = [] if from_library else uploads_for(tool, request)
        job = jobs.create_job(
            Job.Kind.TOOL,
            request.user,
            uploads,
            tool=tool,
            settings=raw_settings,
            from_library=from_library,
            save_to=[target] if target else [],
        )
        return submit(request, job, inline=tool.inline)


def batch_uploads(request: Request, extra: int = 0) -> list[UploadedFile]:
    """The files of a batch, in upload order; with `extra` library files, 1 to
    MAX_BATCH_SIZE inputs in all.

    `files` is the documented field; repeated `file` fields are accepted too.
    """
    files = request.FILES.getlist(MANY_FILES_FIELD) or request.FILES.getlist(FILE_FIELDS[0])
    if not files and not extra:
        raise ApiError(400, "NO_FILE", "No files uploaded: send multipart fields 'files'")
    if len(files) + extra > settings.MAX_BATCH_SIZE:
        raise ApiError(
            400,
            "TOO_MANY_FILES",
            f"{len(files) + extra} files sent; a batch takes at most {settings.MAX_BATCH_SIZE}",
        )
    return files


def library_ids(request: Request, raw_settings: dict[str, Any]) -> Any:
    """`fileIds` of a batch: in the settings (as `fileId` is for one file) or a form field."""
    if "fileIds" in raw_settings:
        return raw_settings.pop("fileIds")
    data = request.data
    if hasattr(data, "getlist") and len(data.getlist("fileIds")) > 1:
        return data.getlist("fileIds")
    return data.get("fileIds") if isinstance(data, dict) else None


class BatchView(APIView):
    """POST runs a one-image tool on each uploaded file; the answer is a ZIP + manifest.json.

    A batch always runs on a worker (CONCURRENT_JOBS files at a time); the request waits
    for it unless it asks for async. A file that fails does not fail the batch.
    """

    permission_classes = [CanUseTools]

    @extend_schema(exclude=True)
    def post(self, request: Request, tool_id: str) -> Any:
        tool = enabled_tool(tool_id)
        if tool.inputs is not Inputs.ONE:
            raise ApiError(
                400, "NOT_BATCHABLE", f"{tool.id} does not take one image, so it cannot batch"
            )
        raw_settings = parse_settings_field(request)
        targets = links.target_files(request.user, library_ids(request, raw_settings))
        runner.validate_settings(tool, raw_settings)  # a bad setting never becomes a job
        uploads = batch_uploads(request, extra=len(targets))
        job = jobs.create_job(
            Job.Kind.BATCH,
            request.user,
            uploads,
            tool=tool,
            settings=raw_settings,
            from_library=targets,
            save_to=[None] * len(uploads) + list(targets),
        )
        return submit(request, job, inline=False)
