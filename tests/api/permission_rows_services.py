"""Permission-table rows of the small upscale service, the Jellyfin AI service and SeedVR2
(see tests/api/permission_kit.py).

The table's world has no model installed: a signed-in caller of a synchronous Jellyfin
route reaches the tool, which answers 503 MODEL_NOT_INSTALLED (the real answer there);
the asynchronous submissions answer 202 and their jobs fail afterwards.
"""

import base64
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.permission_kit import ADMIN, AUTH, FIXTURES, OPEN, Row

FAST = "realesr-animevideov3"
MODEL_MISSING = (401, 503, 503, 503, 503)
OWN_OR_ADMIN = (401, 404, 200, 404, 200)  # bob's task: 404 to another user, admins see it


def photo_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")


def photo_base64() -> str:
    return base64.b64encode((FIXTURES / "photo.jpg").read_bytes()).decode()


def frame(**fields: Any) -> dict[str, Any]:
    return {"image": photo_base64(), **fields}


ROWS: dict[str, Row] = {
    # the small upscale service (its /models and /health are ours, in the core table)
    "upscale-service-submit": Row(
        "POST",
        "/api/v1/upscale",
        (401, 202, 202, 202, 202),
        lambda: {"image": photo_upload(), "scale": "2", "model_name": FAST},
        multipart=True,
    ),
    "upscale-service-status": Row(
        "GET", "/api/v1/status/{bob_job}", OWN_OR_ADMIN, route="/api/v1/status/<str:job_id>"
    ),
    "upscale-service-download": Row(
        "GET", "/api/v1/download/{bob_job}", OWN_OR_ADMIN, route="/api/v1/download/<str:job_id>"
    ),
    "upscale-service-cancel": Row(
        "POST", "/api/v1/cancel/{bob_queued}", OWN_OR_ADMIN, route="/api/v1/cancel/<str:job_id>"
    ),
    # the Jellyfin AI service
    "jellyfin-upscale-frame": Row(
        "POST", "/api/v1/ai/upscale-frame", MODEL_MISSING, lambda: frame(model=FAST, scale=2)
    ),
    "jellyfin-upscale-batch": Row(
        "POST",
        "/api/v1/ai/upscale-batch",
        MODEL_MISSING,
        lambda: {"images": [photo_base64()], "model": FAST},
    ),
    "jellyfin-benchmark-frame": Row(
        "GET",
        f"/api/v1/ai/benchmark-frame?width=16&height=16&model={FAST}",
        MODEL_MISSING,
        route="/api/v1/ai/benchmark-frame",
    ),
    "jellyfin-benchmark-frame-post": Row(
        "POST", "/api/v1/ai/benchmark-frame", MODEL_MISSING, lambda: frame(model=FAST)
    ),
    "jellyfin-face-detect": Row("POST", "/api/v1/ai/face-restore/detect", MODEL_MISSING, frame),
    "jellyfin-face-restore": Row("POST", "/api/v1/ai/face-restore/restore", MODEL_MISSING, frame),
    "jellyfin-face-pipeline": Row(
        "POST", "/api/v1/ai/face-restore/pipeline", MODEL_MISSING, lambda: frame(model=FAST)
    ),
    # SeedVR2
    "seedvr2-process": Row(
        "POST",
        "/api/process",
        (401, 202, 202, 202, 202),
        lambda: {"file": photo_upload(), "resolution": "64", "dit_model": FAST},
        multipart=True,
    ),
    "seedvr2-status": Row(
        "GET", "/api/status/{bob_job}", OWN_OR_ADMIN, route="/api/status/<str:task_id>"
    ),
    "seedvr2-download": Row(
        "GET", "/api/download/{bob_job}", OWN_OR_ADMIN, route="/api/download/<str:task_id>"
    ),
    "seedvr2-queue-status": Row("GET", "/api/queue/status", AUTH),
    "seedvr2-queue-position": Row(
        "GET",
        "/api/queue/position/{bob_queued}",
        OWN_OR_ADMIN,
        route="/api/queue/position/<str:task_id>",
    ),
    "seedvr2-queue-history": Row(
        "GET", "/api/queue/history?limit=5", AUTH, route="/api/queue/history"
    ),
    "seedvr2-gpu-status": Row("GET", "/api/gpu/status", AUTH),
    "seedvr2-gpu-offload": Row("POST", "/api/gpu/offload", ADMIN),
    "seedvr2-models": Row("GET", "/api/models", AUTH),
    "seedvr2-models-switch": Row(
        "POST", "/api/models/switch", (401, 403, 202, 403, 202), lambda: {"model": FAST}
    ),
    "seedvr2-health": Row("GET", "/health", OPEN),
}
