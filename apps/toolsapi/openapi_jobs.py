"""OpenAPI schemas of the job answers (one job, a page of jobs, the queue), attached to
the jobs and queue operations by a post-processing hook: those views build their JSON by
hand (apps/jobs/views.job_json), so the shapes are written down here, next to the spec
they document, and tests/api/test_docs.py checks them against real answers."""

from __future__ import annotations

from typing import Any

REF = "#/components/schemas/{model}"
_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_NUM = {"type": ["number", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}

JOB = {
    "type": "object",
    "required": ["id", "kind", "status", "progress", "createdAt", "statusUrl"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string", "enum": ["tool", "batch", "pipeline", "pipeline-batch"]},
        "toolId": _NSTR,
        "status": {
            "type": "string",
            "enum": ["queued", "processing", "completed", "failed", "cancelled"],
        },
        "progress": {"type": "number", "minimum": 0, "maximum": 100},
        "stage": _STR,
        "message": _STR,
        "items": {
            "type": "object",
            "properties": {"total": _INT, "done": _INT, "failed": _INT},
        },
        "error": {
            "type": ["object", "null"],
            "properties": {"code": _STR, "message": _STR},
        },
        "result": {
            "type": ["object", "null"],
            "properties": {
                "name": _STR,
                "size": {"type": ["integer", "null"]},
                "mediaType": _STR,
                "info": {"type": "object"},
            },
        },
        "engine": _NSTR,
        "model": _NSTR,
        "modelSha256": _NSTR,
        "device": _NSTR,
        "inputNames": {"type": "array", "items": _STR},
        "owner": _NSTR,
        "createdAt": {"type": "string", "format": "date-time"},
        "startedAt": _TIME,
        "finishedAt": _TIME,
        "durationS": _NUM,
        "statusUrl": _STR,
        "progressUrl": _STR,
        "signedProgressUrl": _STR,
        "downloadUrl": _STR,
        "files": {"type": "array", "items": {"type": "object"}, "description": "a running batch"},
        "queuePosition": {"type": ["integer", "null"], "description": "detail only"},
        "etaSeconds": {**_NUM, "description": "detail only"},
    },
}

JOB_PAGE = {
    "type": "object",
    "required": ["jobs", "page", "pageSize", "total", "totalPages"],
    "properties": {
        "jobs": {"type": "array", "items": {"$ref": REF.format(model="Job")}},
        "page": _INT,
        "pageSize": _INT,
        "total": _INT,
        "totalPages": _INT,
    },
}

QUEUE_STATUS = {
    "type": "object",
    "required": ["queueLength", "processing", "workers", "pending"],
    "properties": {
        "queueLength": _INT,
        "processing": _INT,
        "workers": _INT,
        "pending": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "jobId": {"type": "string", "format": "uuid"},
                    "position": _INT,
                    "toolId": _STR,
                    "kind": _STR,
                },
            },
        },
        "averageDurationS": _NUM,
        "estimatedWaitS": _NUM,
    },
}

SCHEMAS = {"Job": JOB, "JobPage": JOB_PAGE, "QueueStatus": QUEUE_STATUS}
# operationId → the schema of its 200 answer
ANSWERS = {
    "jobs_get": "Job",
    "jobs_list": "JobPage",
    "queue_history": "JobPage",
    "queue_status": "QueueStatus",
}


def add_job_schemas(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Name the job answers' shapes in components and point their operations at them."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            model = (
                ANSWERS.get(operation.get("operationId", ""))
                if isinstance(operation, dict)
                else None
            )
            if model is not None:
                schema = {"$ref": REF.format(model=model)}
                operation["responses"]["200"] = {
                    "description": "",
                    "content": {"application/json": {"schema": schema}},
                }
    return result


# What the file-answering operations send, by operationId. drf-spectacular documents a
# view's `bytes` answer as a JSON string, so generated clients try to decode the file as
# JSON; these say what it really is. A job's or a pipeline's result may also be JSON.
_JSON_RESULT = {"application/json": {"schema": {"type": "object"}}}
_RESULTS = ["image/*", "application/zip", "application/pdf", "video/*"]
BINARY_ANSWERS: dict[str, list[str]] = {
    "jobs_download": _RESULTS,
    "files_download": ["image/*"],
    "files_thumbnail": ["image/jpeg"],
    "files_download_many": ["application/zip"],
    "pipeline_execute": _RESULTS,
    "pipeline_saved_execute": _RESULTS,
    "pipeline_batch": ["application/zip"],
    "pipeline_saved_batch": ["application/zip"],
    "upscale_service_download": ["image/*"],
    "seedvr2_download": ["image/*", "video/*"],
}
_JSON_TOO = {"jobs_download", "pipeline_execute", "pipeline_saved_execute"}


def binary_answers(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Give every answer documented as a JSON-encoded binary string its real media types
    (BINARY_ANSWERS, else application/octet-stream)."""
    binary = {"type": "string", "format": "binary"}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for answer in operation.get("responses", {}).values():
                content = answer.get("content") or {}
                if content.get("application/json", {}).get("schema") != binary:
                    continue
                name = operation.get("operationId", "")
                media = BINARY_ANSWERS.get(name, ["application/octet-stream"])
                answer["content"] = {m: {"schema": binary} for m in media}
                if name in _JSON_TOO:
                    answer["content"].update(_JSON_RESULT)
    return result
