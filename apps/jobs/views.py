"""/api/v1/jobs and /api/v1/queue: find, watch, download and cancel work."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import pagination
from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.core.uploads import first_upload
from apps.jobs import lookup, responses, staging
from apps.jobs.eta import eta_seconds, queue_position
from apps.jobs.models import Job


def visible_jobs(request: Request) -> QuerySet[Job]:
    return lookup.visible_jobs(request.user)


def get_job_or_404(request: Request, job_id: UUID) -> Job:
    return lookup.job_or_404(request.user, job_id)


def job_json(job: Job, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(job.pk),
        "kind": job.kind,
        "toolId": job.tool_id or None,
        "status": job.status,
        "progress": job.percent,
        "stage": job.stage,
        "message": job.message,
        "items": {"total": job.items_total, "done": job.items_done, "failed": job.items_failed},
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "result": None,
        "engine": job.engine or None,
        "model": job.model or None,
        "modelSha256": job.model_sha256 or None,
        "device": job.device or None,
        "inputNames": job.input_names,
        "owner": job.owner.username if job.owner else None,
        "createdAt": job.created_at.isoformat(),
        "startedAt": job.started_at.isoformat() if job.started_at else None,
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "durationS": job.duration_s,
        **responses.urls(job),
    }
    if job.each_file and not job.finished:  # a running batch: the files finished so far
        data["files"] = (job.result_info or {}).get("files", [])
    if job.status == Job.Status.COMPLETED:
        data["result"] = {
            "name": job.result_name,
            "size": job.result_size,
            "mediaType": job.result_media_type,
            "info": job.result_info,
        }
    if detail:
        position = queue_position(job)
        data["queuePosition"] = position
        data["etaSeconds"] = eta_seconds(job, position)
    return data


class JobListView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="jobs_list",
        parameters=[
            *pagination.parameters(50),
            OpenApiParameter("status", str, enum=list(Job.Status.values)),
            OpenApiParameter("limit", int, description="an older name for pageSize"),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        jobs = visible_jobs(request).select_related("owner")
        status = request.query_params.get("status")
        if status:
            if status not in Job.Status.values:
                raise ApiError(
                    400, "VALIDATION_ERROR", f"status must be one of {Job.Status.values}"
                )
            jobs = jobs.filter(status=status)
        return Response(pagination.page_of(request, jobs, "jobs", job_json, size_alias="limit"))


class JobDetailView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(operation_id="jobs_get", responses={200: dict})
    def get(self, request: Request, job_id: UUID) -> Response:
        return Response(job_json(get_job_or_404(request, job_id), detail=True))


class JobDownloadView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(operation_id="jobs_download", responses={200: bytes})
    def get(self, request: Request, job_id: UUID) -> Any:
        job = get_job_or_404(request, job_id)
        if not job.finished:
            raise ApiError(409, "JOB_NOT_FINISHED", f"The job is {job.status}; try again later")
        return responses.result_of(request, job)


class JobCancelView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(operation_id="jobs_cancel", request=None, responses={200: dict})
    def post(self, request: Request, job_id: UUID) -> Response:
        state = lookup.cancel(get_job_or_404(request, job_id))
        status = 202 if state == lookup.CANCELLING else 200
        return Response({"jobId": str(job_id), "status": state}, status=status)


class QueueStatusView(APIView):
    """What is waiting and running (the caller's own pending jobs listed with positions)."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="queue_status", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(lookup.queue_summary(request.user))


class QueueHistoryView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="queue_history",
        parameters=[
            *pagination.parameters(20),
            OpenApiParameter("limit", int, description="an older name for pageSize"),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        finished = visible_jobs(request).filter(finished_at__isnull=False).order_by("-finished_at")
        page = pagination.page_of(
            request, finished.select_related("owner"), "jobs", job_json, 20, size_alias="limit"
        )
        return Response(page)


STAGE_FORM = {
    "multipart/form-data": inline_serializer("StagedUpload", {"file": serializers.FileField()})
}


class StagedUploadView(APIView):
    """POST one file (multipart `file`): kept for a batch to name in `uploadIds`, so a
    batch may be larger than one request (MAX_UPLOAD_SIZE_MB, a proxy's body limit)."""

    permission_classes = [CanUseTools]
    # One request per file of a batch: bounded by MAX_BATCH_SIZE waiting files per user
    # rather than by the per-minute API limit, which a batch of hundreds would exhaust.
    throttle_classes: list = []

    @extend_schema(operation_id="uploads_stage", request=STAGE_FORM, responses={201: dict})
    def post(self, request: Request) -> Response:
        row = staging.stage(request.user, first_upload(request, ("file",)))
        return Response(staging.staged_json(row), status=201)
