"""/api/v1/tools: the catalog, and POST /api/v1/tools/<toolId> to run one tool."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.core.uploads import save_upload
from apps.jobs import services as jobs
from apps.jobs.models import Job
from apps.siteconfig.registry import get_setting
from tools import imaging, registry, runner
from tools.base import Inputs, Output, OutputKind, Source, Tool, ToolError

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
    if tool is None or (tool.experimental and not get_setting("enableExperimentalTools")):
        raise ApiError(404, "TOOL_NOT_FOUND", f"Unknown tool: {tool_id}")
    if tool.id in get_setting("disabledTools"):
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
    if main is None:
        raise ApiError(400, "NO_FILE", "No file uploaded: send a multipart field 'file'")
    if tool.inputs is Inputs.ONE:
        return [main]
    second = first(SECOND_FILE_FIELDS)
    if second is None:
        raise ApiError(400, "NO_FILE", f"{tool.id} needs a second file in the field 'overlay'")
    return [main, second]


def store_sources(job: Job, uploads: list[UploadedFile]) -> list[Source]:
    folder = jobs.scratch_dir(job) / "in"
    sources = []
    for index, upload in enumerate(uploads):
        name = upload.name or f"upload-{index}"
        path = save_upload(upload, folder, f"{index}")
        sources.append(imaging.open_source(path, name))
    return sources


def download_name(tool: Tool, sources: list[Source], output: Output) -> str:
    stem = Path(sources[0].name).stem if sources else tool.id
    extension = Path(output.filename).suffix
    return f"{stem or 'image'}_{tool.id}{extension}"


def file_response(job: Job, tool: Tool, sources: list[Source], output: Output) -> FileResponse:
    assert output.path is not None
    handle = output.path.open("rb")
    # POSIX keeps the open file readable after its directory is removed, so the
    # scratch space is gone the moment the response starts streaming.
    jobs.discard_scratch(job)
    response = FileResponse(
        handle,
        content_type=output.media_type,
        as_attachment=True,
        filename=download_name(tool, sources, output),
    )
    # Fewer, larger chunks: under ASGI each chunk of a file is a thread hop.
    response.block_size = 512 * 1024
    response["X-Original-Size"] = str(sum(s.size for s in sources))
    response["X-Processed-Size"] = str(job.result_size or 0)
    return response


def result_headers(response: Any, job: Job, output: Output) -> Any:
    response["X-Job-Id"] = str(job.id)
    response["X-Engine"] = output.engine
    if output.model:
        response["X-Model"] = output.model
    if output.extras:
        response["X-Result-Info"] = json.dumps(output.extras, default=str)
    return response


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
        tool_settings = runner.validate_settings(tool, raw_settings)
        uploads = uploads_for(tool, request)
        job = jobs.start_job(tool, request.user, raw_settings, [u.name or "" for u in uploads])
        try:
            sources = store_sources(job, uploads)
        except ToolError as exc:
            jobs.discard_scratch(job)
            jobs.fail_job(job, exc.code, exc.message)
            raise
        try:
            output = jobs.run_inline(job, tool, sources, tool_settings)
        except BaseException:
            jobs.discard_scratch(job)
            raise
        if output.kind is OutputKind.JSON:
            jobs.discard_scratch(job)
            return result_headers(Response(output.data), job, output)
        return result_headers(file_response(job, tool, sources, output), job, output)
