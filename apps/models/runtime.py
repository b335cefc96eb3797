"""The model runtime of this process: its limits, and the models it keeps warm.

Each web and worker process has its own store of loaded models (tools.ai.store); its
memory budget and idle unload come from MODEL_CACHE_MB and MODEL_IDLE_UNLOAD_S. A worker
process loads the MODEL_PRELOAD models as it starts (django-q2's post_spawn signal) and
keeps them pinned, so the first job on them does not wait for a load.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tools.ai import onnx_session
from tools.ai.catalog import ModelSpec, get
from tools.ai.store import process_store
from tools.base import Context, ToolError

log = logging.getLogger(__name__)


def configure() -> None:
    """Apply the settings to this process's runtime (called once, at start-up)."""
    process_store().configure(settings.MODEL_CACHE_MB, settings.MODEL_IDLE_UNLOAD_S)
    onnx_session.configure(gpu_required=settings.GPU_REQUIRED, tensorrt=settings.ORT_TENSORRT)
    preload_specs()  # unknown ids in MODEL_PRELOAD stop the start, as bad settings do


def preload_specs() -> list[ModelSpec]:
    specs = []
    for model_id in settings.MODEL_PRELOAD:
        spec = get(model_id)
        if spec is None:
            raise ImproperlyConfigured(f"MODEL_PRELOAD names an unknown model: {model_id}")
        specs.append(spec)
    return specs


def worker_device() -> str:
    return "gpu" if settings.Q_CLUSTER_NAME == "gpu" else "cpu"


def preload(**_: Any) -> list[str]:
    """Load and pin the MODEL_PRELOAD models in this process; returns what was loaded.
    A model that cannot be loaded is logged and skipped: the worker still serves jobs."""
    ctx = Context(
        scratch_dir=settings.TMP_DIR,
        device=worker_device(),
        models=process_store(),
        model_dir=settings.MODELS_DIR,
    )
    loaded = []
    for spec in preload_specs():
        if spec.engine != "onnxruntime":
            log.warning(
                "MODEL_PRELOAD: %s runs on %s, which is not preloaded", spec.id, spec.engine
            )
            continue
        for file in spec.files:
            try:
                session = onnx_session.for_model(ctx, spec, file, pinned=True)
            except ToolError as exc:
                log.error("MODEL_PRELOAD: %s: %s", spec.id, exc.message)
                continue
            loaded.append(session.model_id)
    if loaded:
        log.info("preloaded models on %s: %s", ctx.device, ", ".join(loaded))
    return loaded
