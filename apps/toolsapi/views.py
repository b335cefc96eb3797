"""/api/v1/tools: the catalog, POST /api/v1/tools/<toolId> to run one tool, and /batch.

A tool call is one step over the uploaded file(s); a batch is that step over each file.
Both go through the submission service (apps.jobs.services), like every other way in.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.jobs import intake, responses, services, staging
from apps.jobs.steps import ToolPolicy, enabled_tool, tool_step
from apps.library import links
from tools.base import Inputs


class ToolListView(APIView):
    """The catalog: every tool with its settings JSON schema."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="tools_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        policy = ToolPolicy.current()
        tools = [
            {**t.describe(), "enabled": t.id not in policy.disabled} for t in policy.visible_tools()
        ]
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
        raw_settings = intake.settings_field(request)
        # fileId is no tool setting: it names the library file to read and/or version.
        target = links.target_file(request.user, raw_settings.pop("fileId", None))
        step = tool_step(tool, raw_settings)  # a bad setting never becomes a job
        reads_target = tool.inputs is Inputs.ONE and not intake.has_file(request)
        from_library = [target] if target is not None and reads_target else []
        work = services.Work(
            steps=[step],
            uploads=[] if from_library else intake.uploads_for(tool, request),
            from_library=from_library,
            save_to=[target] if target else [],
        )
        asynchronous = intake.wants_async(request)
        job = services.submit(request.user, work, asynchronous=asynchronous)
        return responses.answer(request, job, asynchronous)


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
        raw_settings = intake.settings_field(request)
        targets = links.target_files(request.user, intake.library_ids(request, raw_settings))
        step = tool_step(tool, raw_settings)  # a bad setting never becomes a job
        uploads = intake.batch_uploads(request, extra=len(targets))
        work = services.Work(
            steps=[step],
            uploads=uploads,
            from_library=targets,
            save_to=[None] * len(uploads) + list(targets),
            each_file=True,
        )
        asynchronous = intake.wants_async(request)
        job = services.submit(request.user, work, asynchronous=asynchronous)
        staging.consumed(uploads)
        return responses.answer(request, job, asynchronous)
