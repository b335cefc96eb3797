"""HTTP answers for a job: its result (file or JSON), its error, or 202 while it runs."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.errors import error_body
from apps.core.streaming import stream_file
from apps.jobs import storage
from apps.jobs.batch import file_results_header
from apps.jobs.models import Job
from apps.jobs.progress_links import signed_progress_url

# The 202 answer's schema for views' extend_schema (the post-processing hook in
# apps/toolsapi/openapi.py gives the component of this name its full description).
JOB_ACCEPTED = inline_serializer(
    "JobAccepted",
    {
        "jobId": serializers.UUIDField(),
        "status": serializers.CharField(),
        "statusUrl": serializers.CharField(),
        "progressUrl": serializers.CharField(),
        "signedProgressUrl": serializers.CharField(),
        "downloadUrl": serializers.CharField(),
    },
)


def urls(job: Job) -> dict[str, str]:
    base = f"/api/v1/jobs/{job.pk}"
    return {
        "statusUrl": base,
        "progressUrl": f"{base}/progress",
        # the same stream without a header, for PROGRESS_LINK_TTL_S (apps.jobs.progress_links)
        "signedProgressUrl": signed_progress_url(job.pk),
        "downloadUrl": f"{base}/download",
    }


def accepted(job: Job) -> Response:
    """202 for async submissions (and sync waits that ran out of time)."""
    body = {"jobId": str(job.pk), "status": job.status, **urls(job)}
    return Response(
        body, status=202, headers={"X-Job-Id": str(job.pk), "Location": body["statusUrl"]}
    )


def error_of(job: Job) -> Response:
    if job.status == Job.Status.CANCELLED:
        body, status = error_body("The job was cancelled", "JOB_CANCELLED"), 409
    else:
        body = error_body(job.error_message or "The job failed", job.error_code or "JOB_FAILED")
        status = job.error_status or 422
    return Response(body, status=status, headers={"X-Job-Id": str(job.pk)})


def with_job_headers(response: Any, job: Job) -> Any:
    response["X-Job-Id"] = str(job.pk)
    if job.engine:
        response["X-Engine"] = job.engine
    if job.model:
        response["X-Model"] = job.model
    if job.model_sha256:
        response["X-Model-Sha256"] = job.model_sha256
    if job.device:
        response["X-Device"] = job.device
    info = dict(job.result_info or {})
    if job.each_file and (file_results := file_results_header(info.pop("files", []))):
        response["X-File-Results"] = file_results  # per-file results: not in X-Result-Info
    if info:
        response["X-Result-Info"] = json.dumps(info, default=str, ensure_ascii=True)
    return response


def result_of(request: Any, job: Job) -> Any:
    """The finished job's result: JSON, or its file streamed from disk; else its error."""
    if not job.finished:
        return accepted(job)
    if job.status != Job.Status.COMPLETED:
        return error_of(job)
    if job.result_json is not None and not job.result_file:
        return with_job_headers(Response(job.result_json), job)
    path = storage.result_path(job)
    if path is None:
        return Response(
            error_body("The result has expired or was removed", "RESULT_GONE"),
            status=410,
            headers={"X-Job-Id": str(job.pk)},
        )
    response = stream_file(
        request,
        path.open("rb"),
        content_type=job.result_media_type or "application/octet-stream",
        as_attachment=True,
        filename=job.result_name or path.name,
    )
    response["X-Original-Size"] = str(job.input_size)
    response["X-Processed-Size"] = str(job.result_size or 0)
    return with_job_headers(response, job)


def answer(request: Any, job: Job, asynchronous: bool) -> Any:
    """The response to a submission: 202 with the job's URLs when asked to respond async,
    else the result (or 202 when the wait for it ran out)."""
    return accepted(job) if asynchronous else result_of(request, job)
