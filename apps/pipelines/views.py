"""/api/v1/pipeline/*: run a list of steps on a file or a batch; save, list and rerun them.

Every run goes through the submission service, answered like a tool call: the result
file (or ZIP) with X-Job-Id, or 202 when asked to respond async. The steps are validated
before any job exists, so a bad step costs no work. The first step takes the request's
files as that tool would (collage: `files`; a one-image tool: `file`). Saved pipelines
are scoped like jobs: users see their own, admins everyone's, and another user's
pipeline answers 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.ownership import owner_of
from apps.core.permissions import CanUseTools, is_admin
from apps.jobs import intake, responses, services, staging
from apps.jobs.steps import INVALID, Step, ToolPolicy, is_last_only, step_tools, validate_steps
from apps.library import links
from apps.pipelines.models import Pipeline
from tools.base import Inputs, ToolError

_STEPS_HELP = 'JSON list of {"toolId", "settings"} steps'


def run_form(name: str, batch: bool, saved: bool) -> dict[str, Any]:
    """The documented multipart body of a run endpoint (for the OpenAPI spec only)."""
    fields: dict[str, serializers.Field] = {"async": serializers.BooleanField(required=False)}
    if batch:
        fields["files"] = serializers.ListField(child=serializers.FileField(), required=False)
        fields["uploadIds"] = serializers.CharField(required=False, help_text=STAGED_HELP)
    else:
        fields["file"] = serializers.FileField()
    if not saved:
        fields["pipeline"] = serializers.CharField(help_text=_STEPS_HELP)
    return {"multipart/form-data": inline_serializer(name, fields)}


RUN_RESPONSES = {200: bytes, 202: dict}
STAGED_HELP = (
    "JSON list of staged upload ids (POST /api/v1/uploads, one file per request): a batch "
    "larger than one request may carry. They come after `files`."
)


class SaveSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=1000, allow_blank=True, default="")
    steps = serializers.JSONField(help_text=_STEPS_HELP)


def raw_steps(request: Request, field: str) -> Any:
    """The steps sent in `field`: a JSON list (JSON body) or a JSON string (multipart)."""
    raw = intake.json_field(request, field, INVALID)
    if raw is None:
        raise ToolError(INVALID, f"send the steps as a JSON list in the field '{field}'")
    return raw


def start(request: Request, steps: Sequence[Step], each_file: bool, saved: UUID | None) -> Any:
    """Submit validated steps over the request's files, like a tool call (sync unless asked)."""
    uploads, from_library, save_to = pipeline_inputs(request, steps[0], each_file)
    work = services.Work(
        steps=steps,
        uploads=uploads,
        from_library=from_library,
        save_to=save_to,
        each_file=each_file,
        pipeline=True,
        pipeline_id=saved,
    )
    asynchronous = intake.wants_async(request)
    job = services.submit(request.user, work, asynchronous=asynchronous)
    staging.consumed(uploads)
    return responses.answer(request, job, asynchronous)


def pipeline_inputs(
    request: Request, first: Step, each_file: bool
) -> tuple[list[Any], list[Any], list[Any]]:
    """(uploads, library inputs, library targets) of a run: `fileId` names a library file
    to read (when no file is uploaded) and to version; `fileIds` does so for batches."""
    data = request.data if isinstance(request.data, dict) else {}
    if not each_file:
        target = links.target_file(request.user, data.get("fileId"))
        one_image = first.tool.inputs is Inputs.ONE
        if target is not None and one_image and not intake.has_file(request):
            return [], [target], [target]
        return intake.uploads_for(first.tool, request), [], [target] if target else []
    targets = links.target_files(request.user, intake.library_ids(request, {}))
    uploads = intake.batch_uploads(request, extra=len(targets))
    return uploads, targets, [None] * len(uploads) + targets


def visible_pipelines(request: Request) -> QuerySet[Pipeline]:
    return Pipeline.objects.visible_to(request.user)


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
        return start(request, steps, each_file=False, saved=None)


class PipelineBatchView(APIView):
    """POST files + pipeline: every file goes through the steps; the results come as a ZIP."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="pipeline_batch",
        request=run_form("PipelineBatch", batch=True, saved=False),
        responses=RUN_RESPONSES,
    )
    def post(self, request: Request) -> Any:
        steps = validate_steps(raw_steps(request, "pipeline"), each_file=True)
        return start(request, steps, each_file=True, saved=None)


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
        return start(request, validate_steps(pipeline.steps), each_file=False, saved=pipeline.pk)


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
        steps = validate_steps(pipeline.steps, each_file=True)
        return start(request, steps, each_file=True, saved=pipeline.pk)


class PipelineSaveView(APIView):
    """POST {name, description, steps}: steps are validated exactly as for a run."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="pipeline_save", request=SaveSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        serializer = SaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        steps = validate_steps(raw_steps(request, "steps"))
        pipeline = Pipeline.objects.create(
            owner=owner_of(request.user),
            name=serializer.validated_data["name"],
            description=serializer.validated_data["description"],
            steps=[s.as_json() for s in steps],
        )
        return Response(pipeline_json(pipeline), status=201)


class PipelineValidateView(APIView):
    """POST {steps, eachFile?}: check the steps exactly as a run or a save would, without
    running anything: 200 with the normalised steps, or the first step-named error (400).
    The pipeline builder calls it as the user edits."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="pipeline_validate", request=dict, responses={200: dict})
    def post(self, request: Request) -> Response:
        each_file = bool(request.data.get("eachFile")) if isinstance(request.data, dict) else False
        steps = validate_steps(raw_steps(request, "steps"), each_file=each_file)
        return Response({"valid": True, "steps": [s.as_json() for s in steps]})


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

    @extend_schema(operation_id="pipeline_update", request=SaveSerializer, responses={200: dict})
    def put(self, request: Request, pipeline_id: UUID) -> Response:
        """Replace a saved pipeline's name, description and steps (validated as for a save)."""
        pipeline = get_pipeline_or_404(request, pipeline_id)
        serializer = SaveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        steps = validate_steps(raw_steps(request, "steps"))
        pipeline.name = serializer.validated_data["name"]
        pipeline.description = serializer.validated_data["description"]
        pipeline.steps = [s.as_json() for s in steps]
        pipeline.save(update_fields=["name", "description", "steps", "updated_at"])
        return Response(pipeline_json(pipeline, with_owner=is_admin(request)))

    @extend_schema(operation_id="pipeline_delete", responses={200: dict})
    def delete(self, request: Request, pipeline_id: UUID) -> Response:
        get_pipeline_or_404(request, pipeline_id).delete()
        return Response({"ok": True})


class PipelineToolsView(APIView):
    """The tool ids valid as steps; `lastOnly` lists those whose output (JSON, a document,
    several images) cannot feed another step, so they may only end a pipeline;
    `firstOnly` those that take other inputs than one image (several files, none), so
    they may only start a pipeline that is not a batch (collage → resize)."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="pipeline_tools", responses={200: dict})
    def get(self, request: Request) -> Response:
        policy = ToolPolicy.current()
        tools = step_tools(policy)
        first_only = [
            t
            for t in policy.visible_tools()
            if t.id not in policy.disabled and t.inputs is not Inputs.ONE
        ]
        return Response(
            {
                "tools": [t.id for t in tools],
                "lastOnly": [t.id for t in tools if is_last_only(t)],
                "firstOnly": [t.id for t in first_only],
            }
        )
