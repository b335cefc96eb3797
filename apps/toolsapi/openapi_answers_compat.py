"""OpenAPI schemas of the compatibility APIs' JSON answers (the upscale service, SeedVR2,
the Jellyfin plugin's frame API), in their own field names (snake_case, as their clients
read them); openapi_answers.py attaches them. Limits as there: `required` lists only
fields every answer carries (a status answer's fields depend on the job's state)."""

from __future__ import annotations

from typing import Any

from apps.toolsapi.openapi_schema_kit import (
    BOOL,
    INT,
    NINT,
    NNUM,
    NSTR,
    NTIME,
    NUM,
    STR,
    TIME,
    UUID,
    array,
    obj,
    ref,
)

SIZE = {"type": ["object", "null"], "properties": {"width": INT, "height": INT}}
FINISHED = {
    "completed_at": NTIME,
    "process_time": NNUM,
    "output_filename": NSTR,
    "output_resolution": {**NSTR, "description": "WIDTHxHEIGHT"},
    "output_path": {**STR, "description": "completed: the download path"},
    "error": {**STR, "description": 'failed: the reason ("cancelled" for a cancelled task)'},
    "error_code": STR,
}
UPSCALE_STATUS = obj(
    job_id=UUID,
    status={**STR, "description": "queued, processing, completed or failed"},
    _optional={
        "progress": INT,
        "queue_position": NINT,
        "download_url": STR,
        "duration_seconds": NUM,
        "input_size": SIZE,
        "output_size": SIZE,
        "file_size_bytes": NINT,
        "model": NSTR,
        "error": STR,
        "error_code": STR,
        "cancelled": BOOL,
    },
)
TASK = obj(
    id=UUID,
    status=STR,
    progress=INT,
    queue_position=INT,
    created_at=TIME,
    started_at=NTIME,
    params={"type": "object", "description": "tool, dit_model, scale, resolution"},
    _optional=FINISHED,
)
QUEUE = obj(
    queue_length=INT,
    processing={
        "type": ["object", "null"],
        "properties": {"task_id": UUID, "progress": INT, "model": NSTR},
    },
    processing_progress=INT,
    pending_tasks=array(obj(task_id=UUID, position=INT)),
    total_completed=INT,
    total_failed=INT,
    avg_process_time=NUM,
    estimated_total_wait=NUM,
)
SEEDVR2_MODEL = obj(
    name=STR,
    params=STR,
    precision=STR,
    size=STR,
    vram=STR,
    variant=STR,
    desc=obj(en=STR),
)
GPU = obj(
    cuda_available=BOOL,
    gpu_name=NSTR,
    vram_used_mb=INT,
    vram_total_mb=INT,
    gpu_note=NSTR,
    model_loaded=BOOL,
    current_model=NSTR,
    loaded_models=array(STR),
    loading=BOOL,
    loading_model=NSTR,
    processing=BOOL,
    current_task={"type": ["string", "null"], "format": "uuid"},
)
# What ran a Jellyfin frame request (apps/compat/jellyfin_frames.Ran.described).
RAN = {
    "provider": NSTR,
    "using_gpu": BOOL,
    "engine": NSTR,
    "ms": NUM,
    "wall_ms": NUM,
    "job_id": UUID,
}

COMPAT_SCHEMAS: dict[str, dict[str, Any]] = {
    "UpscaleServiceAccepted": obj(success=BOOL, job_id=UUID, status_url=STR),
    "UpscaleServiceStatus": UPSCALE_STATUS,
    "UpscaleServiceCancel": obj(success=BOOL, job_id=STR, status=STR),
    "SeedVR2Accepted": obj(
        status=STR, task_id=UUID, queue_position=INT, estimated_wait_seconds=NUM
    ),
    "SeedVR2Task": TASK,
    "SeedVR2QueueStatus": QUEUE,
    "SeedVR2QueuePosition": obj(task_id=UUID, status=STR, position=INT, estimated_wait=NUM),
    "SeedVR2HistoryEntry": obj(id=UUID, status=STR, created_at=TIME, _optional=FINISHED),
    "SeedVR2History": obj(history=array(ref("SeedVR2HistoryEntry"))),
    "SeedVR2Model": SEEDVR2_MODEL,
    "SeedVR2Models": obj(
        models=array(ref("SeedVR2Model")),
        default=STR,
        current=NSTR,
        loading=BOOL,
        loading_model=NSTR,
    ),
    "SeedVR2ModelSwitch": obj(status=STR, model=STR, job_id=UUID),
    "SeedVR2GpuStatus": GPU,
    "SeedVR2GpuOffload": obj(status=STR, message=STR, models=array(STR), withinS=INT),
    "SeedVR2Health": obj(
        status=STR, version=STR, queue_enabled=BOOL, queue_length=INT, timestamp=TIME
    ),
    "JellyfinFrame": obj(
        image={**STR, "description": "the result image, base64"},
        format=STR,
        width=INT,
        height=INT,
        input_width=INT,
        input_height=INT,
        scale=INT,
        model=STR,
        **RAN,
    ),
    "JellyfinFaces": obj(faces=array({"type": "object"}), count=INT, model=NSTR, **RAN),
}

COMPAT_ANSWERS: dict[tuple[str, str], str] = {
    ("upscale_service_submit", "202"): "UpscaleServiceAccepted",
    ("upscale_service_status", "200"): "UpscaleServiceStatus",
    ("upscale_service_cancel", "200"): "UpscaleServiceCancel",
    ("seedvr2_process", "202"): "SeedVR2Accepted",
    ("seedvr2_status", "200"): "SeedVR2Task",
    ("seedvr2_queue_status", "200"): "SeedVR2QueueStatus",
    ("seedvr2_queue_position", "200"): "SeedVR2QueuePosition",
    ("seedvr2_queue_history", "200"): "SeedVR2History",
    ("seedvr2_models", "200"): "SeedVR2Models",
    ("seedvr2_models_switch", "202"): "SeedVR2ModelSwitch",
    ("seedvr2_gpu_status", "200"): "SeedVR2GpuStatus",
    ("seedvr2_gpu_offload", "200"): "SeedVR2GpuOffload",
    ("seedvr2_health", "200"): "SeedVR2Health",
    ("jellyfin_upscale_frame", "200"): "JellyfinFrame",
    ("jellyfin_face_detect", "200"): "JellyfinFaces",
}
