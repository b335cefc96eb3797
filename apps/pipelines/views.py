"""/api/v1/pipeline/*: run a list of steps on a file or a batch; save, list and rerun them.

Every run is a Job (kind pipeline or pipeline-batch) sent to the worker queue, answered
like a tool call: the result file (or ZIP) with X-Job-Id, or 202 when asked to respond
async. The steps are validated before any job exists, so a bad step costs no work.
Saved pipelines are scoped like jobs: users see their own, admins everyone's, and
another user's pipeline answers 404.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools, is_admin
from apps.core.uploads import first_upload
from apps.jobs import services
from apps.jobs.models import Job
from apps.library import links
from apps.pipelines.engine import TAG
from apps.pipelines.models import Pipeline
from apps.pipelines.steps import INVALID, Step, ToolPolicy, step_tools, validate_steps
from apps.toolsapi.views import FILE_FIELDS, batch_uploads, has_file, library_ids, submit
from tools.base import OutputKind, ToolError

_STEPS_HELP = 'JSON list of {"toolId", "settings"} steps'


def run_form(name: str, batch: bool, saved: bool) -> dict[str, Any]:
    """The documented multipart body of a run endpoint (for the OpenAPI spec only)."""
    fields: dict[str, serializers.Field] = {"async": serializers.BooleanField(required=False)}
    if batch:
        fields["files"] = serializers.ListField(child=serializers.FileField())
    else:
        fields["file"] = serializers.FileField()
    if not saved:
        fields["pipeline"] = serializers.CharField(help_text=_STEPS_HELP)
    return {"multipart/form-data": inline_serializer(name, fields)}


RUN_RESPONSES = {200: bytes, 202: dict}


class SaveSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=1000, allow_blank=True, default="")
    steps = serializers.JSONField(help_text=_STEPS_HELP)


def raw_steps(request: Request, field: str) -> Any:
    """The steps sent in `field`: a JSON list (JSON body) or a JSON string (multipart)."""
    if not isinstance(request.data, dict):
        raise ApiError(400, "INVALID_REQUEST_BODY", "Send an object: multipart form or JSON")
    raw = request.data.get(field)
    if raw is None or raw == "":
        raise ToolError(INVALID, f"send the steps as a JSON list in the field '{field}'")
    if isinstance(raw, UploadedFile):
        raw = raw.read().decode("utf-8", errors="replace")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ToolError(INVALID, f"{field} is not valid JSON: {exc.msg}") from None
    return raw


def start(request: Request, kind: str, steps: Sequence[Step], pipeline_id: UUID | None) -> Any:
    """Create the job for validated steps and run it like a tool call (sync unless asked)."""
    uploads, from_library, save_to = pipeline_inputs(request, kind)
    job = services.create_job(
        kind,
        request.user,
        uploads,
        from_library=from_library,
        save_to=save_to,
        tool_id=TAG,
        settings={
            "steps": [s.as_json() for s in steps],
            "pipelineId": str(pipeline_id) if pipeline_id else None,
        },
    )
    gpu_tool = next((s.tool for s in steps if s.tool.device == "gpu"), None)
    if gpu_tool is not None:  # one GPU step sends the whole chain to the GPU workers
        job.queue = services.queue_for(gpu_tool)
        job.save(update_fields=["queue"])
    return submit(request, job, inline=False)


def pipeline_inputs(request: Request, kind: str) -> tuple[list[Any], list[Any], list[Any]]:
    """(uploads, library inputs, library targets) of a run: `fileId` names a library file
    to read (when no file is uploaded) and to version; `fileIds` does so for batches."""
    data = request.data if isinstance(request.data, dict) else {}
    if kind == Job.Kind.PIPELINE:
        target = links.target_file(request.user, data.get("fileId"))
        if target is not None and not has_file(request):
            return [], [target], [target]
        return [first_upload(request, FILE_FIELDS)], [], [target] if target else []
    targets = links.target_files(request.user, library_ids(request, {}))
    uploads = batch_uploads(request, extra=len(targets))
    return uploads, targets, [None] * len(uploads) + targets


def visible_pipelines(request: Request) -> QuerySet[Pipeline]:
    """Admins see every pipeline; users their own; anonymous callers (auth off) theirs."""
    user = request.user
    if user is not None and user.is_authenticated:
        return Pipeline.objects.all() if is_admin(request) else Pipeline.objects.filter(owner=user)
    return Pipeline.objects.filter(owner__isnull=True)


def get_pipeline_or_404(request: Request, pipeline_id: UUID) -> Pipeline:
    pipeline = visible_pipelines(request).filter(pk=pipeline_id).first()
    if pipeline is None:
        raise ApiError(404, "NOT_FOUND", "Pipeline not found")
    return pipeline


def pipeline_json(pipeline: Pipeline, with_owner: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(pipeline.id),
        "name": pipeline.name,
        "description": pipeline.description,
        "steps": pipeline.steps,
        "createdAt": pipeline.created_at.isoformat(),
        "updatedAt": pipeline.updated_at.isoformat(),
    }
    if with_owner:
        owner = pipeline.owner
        data["owner"] = {"id": str(owner.pk), "username": owner.username} if owner else None
    return data


class PipelineExecuteView(APIView):
    """POST file + pipeline: the steps run one after the other; the last one's file returns."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="pipeline_execute",
        request=run_form("PipelineRun", batch=False, saved=False),
        responses=RUN_RESPONSES,
    )
    def post(self, request: Request) -> Any:
        steps = validate_steps(raw_steps(request, "pipeline"))
        return start(request, Job.Kind.PIPELINE, steps, None)


class PipelineBatchView(APIView):
    """POST files + pipeline: every file goes through the steps; the results come as a ZIP."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="pipeline_batch",
        request=run_form("PipelineBatch", batch=True, saved=False),
        responses=RUN_RESPONSES,
    )
    def post(self, request: Request) -> Any:
        steps = validate_steps(raw_steps(request, "pipeline"))
        return start(request, Job.Kind.PIPELINE_BATCH, steps, None)


class SavedPipelineExecuteView(APIView):
    """POST file: run a saved pipeline, its steps validated again (tools may be disabled since)."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="pipeline_saved_execute",
        request=run_form("SavedPipelineRun", batch=False, saved=True),
        responses=RUN_RESPONSES,
    )
    def post(self, request: Request, pipeline_id: UUID) -> Any:
        pipeline = get_pipeline_or_404(request, pipeline_id)
        return start(request, Job.Kind.PIPELINE, validate_steps(pipeline.steps), pipeline.pk)


class SavedPipelineBatchView(APIView):
    """POST files: run a saved pipeline on each file; the results come as a ZIP."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="pipeline_saved_batch",
        request=run_form("SavedPipelineBatch", batch=True, saved=True),
        responses=RUN_RESPONSES,
    )
    def post(self, request: Request, pipeline_id: UUID) -> Any:
        pipeline = get_pipeline_or_404(request, pipeline_id)
        return start(request, Job.Kind.PIPELINE_BATCH, validate_steps(pipeline.steps), pipeline.pk)


class PipelineSaveView(APIView):
    """POST {name, description, steps}: steps are validated exactly as for a run."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="pipeline_save", request=SaveSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        serializer = SaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        steps = validate_steps(raw_steps(request, "steps"))
        pipeline = Pipeline.objects.create(
            owner=services.owner_of(request.user),
            name=serializer.validated_data["name"],
            description=serializer.validated_data["description"],
            steps=[s.as_json() for s in steps],
        )
        return Response(pipeline_json(pipeline), status=201)


class PipelineListView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(operation_id="pipeline_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        admin = is_admin(request)
        pipelines = visible_pipelines(request).select_related("owner")
        return Response({"pipelines": [pipeline_json(p, with_owner=admin) for p in pipelines]})


class PipelineDetailView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(operation_id="pipeline_get", responses={200: dict})
    def get(self, request: Request, pipeline_id: UUID) -> Response:
        pipeline = get_pipeline_or_404(request, pipeline_id)
        return Response(pipeline_json(pipeline, with_owner=is_admin(request)))

    @extend_schema(operation_id="pipeline_delete", responses={200: dict})
    def delete(self, request: Request, pipeline_id: UUID) -> Response:
        get_pipeline_or_404(request, pipeline_id).delete()
        return Response({"ok": True})


class PipelineToolsView(APIView):
    """The tool ids valid as steps; `lastOnly` lists those whose output (JSON, a document,
    several images) cannot feed another step, so they may only end a pipeline."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="pipeline_tools", responses={200: dict})
    def get(self, request: Request) -> Response:
        tools = step_tools(ToolPolicy.current())
        last_only = [t.id for t in tools if t.output is not OutputKind.IMAGE]
        return Response({"tools": [t.id for t in tools], "lastOnly": last_only})
