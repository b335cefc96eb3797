"""SeedVR2's GPU, model and health routes (seed 003), mapped onto our runtime:

- GET api/gpu/status: the first NVIDIA GPU as NVML reports it (`cuda_available` also
  needs onnxruntime's CUDA provider, so it says whether our models can use it), the
  models the workers hold (apps.models.runtime), a model load under way (a model-load
  job), and whether any job is running (`current_task`: the caller's own running job).
- POST api/gpu/offload (admins): every loaded model is unloaded, as POST
  /api/v1/models/<id>/unload does: each worker drops it within REPORT_S seconds.
- GET api/models: our upscale models in SeedVR2's shape. `params` is estimated from the
  weights' size (4 bytes a parameter in FP32 ONNX, 2 in Real-CUGAN's FP16 ncnn files);
  `vram` is empty (tiling bounds it, see tools/ai); `variant` lists the native scales.
- POST api/models/switch (admins) {model}: loads it as POST /api/v1/models/<id>/load
  does, as a model-load job; answers honestly `{status: "loading", model, job_id}`.
- GET /health (public): {status: "healthy", version, queue_enabled, queue_length,
  timestamp}.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.compat.error_responses import error_responses
from apps.compat.upscale_service_common import DEFAULT_MODEL, upscale_model, upscale_models
from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools, IsAdmin
from apps.jobs import lookup, services
from apps.jobs.models import Job
from apps.jobs.steps import tool_step
from apps.models.models import UnloadRequest
from apps.models.runtime import REPORT_S, loaded_by_model
from tools import registry
from tools.ai import engines
from tools.ai.catalog import ModelSpec

TAG = "SeedVR2"
MB = 1024 * 1024
LOAD_TOOL = "model-load"
JSON_BODY = {"application/json": dict}
ADMIN_ERRORS = error_responses((401, "No or a wrong credential"), (403, "FORBIDDEN: admins only"))
SWITCH_ERRORS = {
    **ADMIN_ERRORS,
    **error_responses(
        (400, "INVALID_MODEL_ID, NOT_AN_UPSCALE_MODEL, or no model named"),
        (404, "MODEL_NOT_FOUND: none of our upscale models (they are named)"),
        (409, "MODEL_NOT_LOADABLE: loaded on first use (ncnn)"),
    ),
}


def loading_model() -> str | None:
    """The model a model-load job is loading or about to load, if any."""
    active = [Job.Status.QUEUED, Job.Status.PROCESSING]
    job = Job.objects.filter(tool_id=LOAD_TOOL, status__in=active).order_by("created_at").first()
    if job is None or not job.steps:
        return None
    return str((job.steps[0].get("settings") or {}).get("model") or "") or None


def current_model(loaded: dict[str, list[dict[str, Any]]]) -> str | None:
    """The upscale model the workers hold (catalog order), else any model they hold."""
    held = [spec.id for spec in upscale_models() if loaded.get(spec.id)]
    return held[0] if held else next(iter(sorted(loaded)), None)


class GpuStatusView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(tags=[TAG], operation_id="seedvr2_gpu_status", responses={200: dict})
    def get(self, request: Request) -> Response:
        gpus, note = engines.gpu_devices()
        gpu = gpus[0] if gpus else None
        cuda = bool(gpu) and "CUDAExecutionProvider" in engines.onnxruntime_providers()
        loaded = loaded_by_model()
        loading = loading_model()
        running = lookup.visible_jobs(request.user).filter(status=Job.Status.PROCESSING).first()
        return Response(
            {
                "cuda_available": cuda,
                "gpu_name": gpu["name"] if gpu else None,
                "vram_used_mb": gpu["memoryUsedBytes"] // MB if gpu else 0,
                "vram_total_mb": gpu["memoryTotalBytes"] // MB if gpu else 0,
                "gpu_note": note,
                "model_loaded": bool(loaded),
                "current_model": current_model(loaded),
                "loaded_models": sorted(loaded),
                "loading": loading is not None,
                "loading_model": loading,
                "processing": Job.objects.filter(status=Job.Status.PROCESSING).exists(),
                "current_task": str(running.pk) if running else None,
            }
        )


class GpuOffloadView(APIView):
    """POST (admins): unload every model every worker holds."""

    permission_classes = [IsAdmin]

    @extend_schema(
        tags=[TAG],
        operation_id="seedvr2_gpu_offload",
        request=None,
        responses={200: dict, **ADMIN_ERRORS},
    )
    def post(self, request: Request) -> Response:
        models = sorted(loaded_by_model())
        UnloadRequest.objects.bulk_create([UnloadRequest(model_id=m) for m in models])
        message = (
            f"{len(models)} model(s) will be unloaded by the workers within {REPORT_S} s"
            if models
            else "No model is loaded"
        )
        return Response(
            {"status": "success", "message": message, "models": models, "withinS": REPORT_S}
        )


def estimated_params(spec: ModelSpec) -> tuple[str, str]:
    """(parameters, precision) from the size of one weights file."""
    sizes = [f.size for f in spec.files if f.size]
    if not sizes:
        return "", ""
    per_param, precision = (2, "FP16") if spec.engine == "ncnn" else (4, "FP32")
    count = max(sizes) / per_param
    return (f"~{count / 1e6:.1f}M" if count >= 1e6 else f"~{count / 1e3:.0f}K"), precision


def model_entry(spec: ModelSpec) -> dict[str, Any]:
    params, precision = estimated_params(spec)
    return {
        "name": spec.id,
        "params": params,
        "precision": precision,
        "size": f"{spec.size / MB:.1f}MB" if spec.size else "",
        "vram": "",
        "variant": "/".join(f"x{s}" for s in spec.scales),
        "desc": {"en": f"{spec.name}: {spec.description}"},
    }


class ModelsView(APIView):
    permission_classes = [CanUseTools]

    @extend_schema(tags=[TAG], operation_id="seedvr2_models", responses={200: dict})
    def get(self, request: Request) -> Response:
        loading = loading_model()
        return Response(
            {
                "models": [model_entry(spec) for spec in upscale_models()],
                "default": DEFAULT_MODEL,
                "current": current_model(loaded_by_model()),
                "loading": loading is not None,
                "loading_model": loading,
            }
        )


class ModelSwitchView(APIView):
    """POST (admins) {model}: load the model in a worker, as a job."""

    permission_classes = [IsAdmin]

    @extend_schema(
        tags=[TAG],
        operation_id="seedvr2_models_switch",
        request=JSON_BODY,
        responses={202: dict, **SWITCH_ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        spec = upscale_model(body.get("model"))
        if spec.engine != "onnxruntime":
            raise ApiError(
                409,
                "MODEL_NOT_LOADABLE",
                f"{spec.id} runs on {spec.engine}: it is loaded on first use",
            )
        tool = registry.system_tool(LOAD_TOOL)
        assert tool is not None, LOAD_TOOL
        work = services.Work(steps=[tool_step(tool, {"model": spec.id})])
        job = services.submit(request.user, work, asynchronous=True)
        body = {"status": "loading", "model": spec.id, "job_id": str(job.pk)}
        return Response(body, status=202)


class HealthView(APIView):
    """Public: liveness and the queue's length."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # monitors poll it

    @extend_schema(tags=[TAG], operation_id="seedvr2_health", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(
            {
                "status": "healthy",
                "version": settings.VERSION,
                "queue_enabled": True,
                "queue_length": Job.objects.filter(status=Job.Status.QUEUED).count(),
                "timestamp": timezone.now().isoformat(),
            }
        )


urlpatterns = [
    path("api/gpu/status", GpuStatusView.as_view()),
    path("api/gpu/offload", GpuOffloadView.as_view()),
    path("api/models", ModelsView.as_view()),
    path("api/models/switch", ModelSwitchView.as_view()),
    path("health", HealthView.as_view()),
]
