"""The model runtime of this process: its limits, and the models it keeps warm.

Each web and worker process has its own store of loaded models (tools.ai.store); its
memory budget and idle unload come from MODEL_CACHE_MB and MODEL_IDLE_UNLOAD_S. A worker
process loads the MODEL_PRELOAD models as it starts (django-q2's post_spawn signal) and
keeps them pinned, so the first job on them does not wait for a load.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

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


# --- what this worker process holds, for the models API ----------------------------------

REPORT_S = 15  # how often a worker process writes what it has loaded
SEEN_S = 60  # a process not heard from for this long is gone (stopped, or killed)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Reporter:
    """Writes this process's loaded models, and applies unload requests, every REPORT_S."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.since = timezone.now()  # unload requests older than this process don't apply

    def report(self) -> None:
        from apps.models.models import UnloadRequest, WorkerModels

        now = timezone.now()
        store = process_store()
        for model_id in UnloadRequest.objects.filter(requested_at__gt=self.since).values_list(
            "model_id", flat=True
        ):
            if store.unload_model(model_id):
                log.info("unloaded %s (an administrator asked)", model_id)
        self.since = now
        WorkerModels.objects.update_or_create(
            worker=worker_name(),
            defaults={"queue": self.queue, "loaded": store.loaded(), "seen_at": now},
        )
        WorkerModels.objects.filter(seen_at__lt=now - timedelta(seconds=10 * SEEN_S)).delete()

    def run_forever(self) -> None:
        while True:
            try:
                self.report()
            except Exception:  # a busy database: the next round will do
                log.debug("model report failed", exc_info=True)
            finally:
                connection.close()
            time.sleep(REPORT_S)


_reporter: Reporter | None = None


def start_reporting() -> None:
    """In a worker process: report what it has loaded, every REPORT_S (once per process)."""
    global _reporter
    if _reporter is not None:
        return
    _reporter = Reporter(settings.Q_CLUSTER_NAME)
    threading.Thread(target=_reporter.run_forever, name="model-report", daemon=True).start()


def worker_started(proc_name: str = "", **_: Any) -> None:
    """django-q2's post_spawn: a worker process starts. Its sync mode (tests, or Q_CLUSTER
    sync) runs tasks in the calling process itself ("MainProcess"): that process is no
    worker, and gets neither preloaded models nor a reporting thread."""
    if proc_name == "MainProcess":
        return
    preload()
    start_reporting()


def report_now() -> None:
    """After a load or unload: tell the API now rather than within REPORT_S."""
    (_reporter or Reporter(settings.Q_CLUSTER_NAME)).report()


def loaded_by_model() -> dict[str, list[dict[str, Any]]]:
    """model id -> where it is loaded: [{worker, queue, device, bytes, pinned, idleS}]."""
    from apps.models.models import WorkerModels

    found: dict[str, list[dict[str, Any]]] = {}
    recent = timezone.now() - timedelta(seconds=SEEN_S)
    for row in WorkerModels.objects.filter(seen_at__gte=recent).order_by("worker"):
        for entry in row.loaded:
            model_id = str(entry.get("model", "")).split("/")[0]
            found.setdefault(model_id, []).append(
                {"worker": row.worker, "queue": row.queue, **entry}
            )
    return found
