"""drf-spectacular post-processing: one documented path per registered tool, and the
routes that are no DRF views (the SSE progress stream).

The run endpoint is one Django route, but clients need each tool's settings schema,
so every tool gets `POST /api/v1/tools/<id>` with its pydantic schema in components,
its security, its result's media types and the 202 job answer of async calls.
"""

from typing import Any

from tools import registry
from tools.base import Inputs, OutputKind, Tool

REF = "#/components/schemas/{model}"

_ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "code"],
    "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
}
_URL = {"type": "string", "format": "uri-reference"}
JOB_ACCEPTED_SCHEMA = {
    "type": "object",
    "description": "An async call's answer (or a sync call whose wait ran out): the job.",
    "required": ["jobId", "status", "statusUrl", "progressUrl", "downloadUrl"],
    "properties": {
        "jobId": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["queued", "processing"]},
        "statusUrl": _URL,
        "progressUrl": {**_URL, "description": "Server-Sent Events (text/event-stream)"},
        "signedProgressUrl": {
            **_URL,
            "description": "The same stream without a credential header, for "
            "PROGRESS_LINK_TTL_S after it was issued",
        },
        "downloadUrl": _URL,
    },
}
# Every protected operation accepts an API key or a session token as a bearer token (the
# schemes are defined by apps/core/schema.py from the authentication classes).
SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"sessionToken": []}]
_BINARY = {"type": "string", "format": "binary"}
# What a tool's result file may be, by the kind of output it declares.
MEDIA_TYPES = {
    OutputKind.IMAGE: ["image/*"],
    OutputKind.IMAGES: ["application/zip"],
    OutputKind.DOCUMENT: ["application/pdf", "application/zip", "image/svg+xml", "image/*"],
}


def result_media_types(tool: Tool) -> list[str]:
    """The media types of a tool's result; a video tool's are videos (or a preview ZIP)."""
    if tool.takes_video:
        return ["video/*", "application/zip"]
    return MEDIA_TYPES[tool.output]


PREFER = {
    "name": "Prefer",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "enum": ["respond-async"]},
    "description": "respond-async: answer 202 with the job's URLs at once",
}


def _settings_schema(tool: Tool, schemas: dict[str, Any]) -> str:
    schema = tool.settings.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        # Two tools' nested models of one name must be one model, or a reference would
        # silently point at the other tool's: fail loudly instead.
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"{tool.id}: a different schema named {name} exists already")
    name = "".join(part.capitalize() for part in tool.id.split("-")) + "Settings"
    schemas[name] = {**schema, "title": name}  # generators name models by title, not key
    return name


def _request_body(tool: Tool, settings_name: str) -> dict[str, Any]:
    binary = {"type": "string", "format": "binary"}
    properties: dict[str, Any] = {
        "settings": {
            "type": "string",
            "description": f"JSON object, see {settings_name}. It may also carry `fileId`: "
            "a library file to read (instead of an uploaded file) and whose next version "
            "the result becomes.",
            "contentMediaType": "application/json",
            "contentSchema": {
                "allOf": [
                    {"$ref": REF.format(model=settings_name)},
                    {"$ref": REF.format(model="FileIdSetting")},
                ]
            },
        }
    }
    required = []
    if tool.inputs is Inputs.MANY:
        properties["files"] = {"type": "array", "items": binary}
        required.append("files")
    elif tool.inputs is Inputs.OPTIONAL:
        properties["file"] = {**binary, "description": "optional"}
    elif tool.inputs in (Inputs.ONE, Inputs.TWO):
        properties["file"] = binary
        required.append("file")
    if tool.inputs is Inputs.TWO:
        properties["overlay"] = binary
        required.append("overlay")
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def _responses(tool: Tool) -> dict[str, Any]:
    if tool.output is OutputKind.JSON:
        ok = {
            "description": "Result",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    else:
        ok = {
            "description": "The processed file (X-Job-Id names the job; X-Engine, X-Model "
            "and X-Device what produced it)",
            "content": {media: {"schema": _BINARY} for media in result_media_types(tool)},
        }
    accepted = {
        "description": "Prefer: respond-async (or a sync wait that ran out): the job",
        "content": {"application/json": {"schema": {"$ref": REF.format(model="JobAccepted")}}},
    }
    errors = {
        str(code): {"description": text, "content": {"application/json": {"schema": _ERROR}}}
        for code, text in [
            (400, "Invalid settings or file"),
            (401, "Not authenticated"),
            (403, "Tool disabled"),
            (404, "Unknown tool"),
            (413, "File or image too large"),
            (422, "File could not be processed"),
            (429, "Rate limited"),
        ]
    }
    return {"200": ok, "202": accepted, **errors}


def add_tool_paths(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["JobAccepted"] = JOB_ACCEPTED_SCHEMA
    schemas["FileIdSetting"] = FILE_ID_SCHEMA
    paths = result.setdefault("paths", {})
    paths["/api/v1/jobs/{job_id}/progress"] = {"get": _progress_operation()}
    for tool in registry.all_tools():
        settings_name = _settings_schema(tool, schemas)
        paths[f"/api/v1/tools/{tool.id}"] = {
            "post": {
                "operationId": f"tool_{tool.id.replace('-', '_')}",
                "summary": tool.name,
                "description": tool.description,
                "tags": [f"tools: {tool.category}"],
                "security": SECURITY,
                "parameters": [PREFER],
                "requestBody": _request_body(tool, settings_name),
                "responses": _responses(tool),
            }
        }
        if tool.inputs is Inputs.ONE:
            paths[f"/api/v1/tools/{tool.id}/batch"] = {
                "post": _batch_operation(tool, settings_name)
            }
    return result


def json_bodies_only(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Document a JSON body once, as JSON. DRF's parsers also take the same fields as a
    form, and drf-spectacular lists all three media types with one schema; generated
    clients then build a broken union of three identical bodies (openapi-python-client's
    modules fail to import). Forms stay accepted; bodies with files are left alone."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            json_schema = content.get("application/json", {}).get("schema")
            if json_schema is None:
                continue
            for form in ("multipart/form-data", "application/x-www-form-urlencoded"):
                if content.get(form, {}).get("schema") == json_schema:
                    del content[form]
    return result


def _batch_operation(tool: Tool, settings_name: str) -> dict[str, Any]:
    """POST /api/v1/tools/<id>/batch: the same settings, `files` × N, a ZIP back."""
    body = _request_body(tool, settings_name)
    schema = body["content"]["multipart/form-data"]["schema"]
    schema["properties"].pop("file", None)
    schema["properties"]["files"] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
    }
    schema["properties"]["uploadIds"] = {
        "type": "string",
        "description": "JSON list of staged upload ids (POST /api/v1/uploads, one file per "
        "request), for a batch larger than one request may carry; after `files`",
    }
    schema["required"] = []
    zip_ok = {
        "description": "ZIP of the results with manifest.json (headers X-Job-Id, X-File-Results)",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
    return {
        "operationId": f"tool_{tool.id.replace('-', '_')}_batch",
        "summary": f"{tool.name} (batch)",
        "description": f"{tool.description} Many files at once; one failing file does not fail "
        "the batch. Prefer: respond-async answers 202 with the job's URLs.",
        "tags": [f"tools: {tool.category}"],
        "security": SECURITY,
        "parameters": [PREFER],
        "requestBody": body,
        "responses": {**_responses(tool), "200": zip_ok},
    }


FILE_ID_SCHEMA = {
    "type": "object",
    "properties": {
        "fileId": {
            "type": "string",
            "format": "uuid",
            "description": "A library file: read when no file is uploaded; the result "
            "becomes its next version",
        }
    },
}


def _progress_operation() -> dict[str, Any]:
    """GET /api/v1/jobs/<id>/progress: Server-Sent Events (an async Django view)."""
    return {
        "operationId": "jobs_progress",
        "summary": "Progress of a job as Server-Sent Events",
        "description": "`event: progress` with the job's JSON whenever it changes (percent, "
        "stage, items, queuePosition, etaSeconds), a comment every 15 s, and a last event "
        "when it ends. Browsers may use their session cookie (EventSource sends no headers); "
        "other clients that cannot send a header use the job's signedProgressUrl (`sig`).",
        "tags": ["jobs"],
        "security": [*SECURITY, {}],  # {}: no credential, with a valid `sig`
        "parameters": [
            {
                "name": "job_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "uuid"},
            },
            {
                "name": "sig",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "From the job's signedProgressUrl: this job only, for "
                "PROGRESS_LINK_TTL_S after it was issued (401 LINK_INVALID after)",
            },
        ],
        "responses": {
            "200": {
                "description": "The event stream",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            "401": {
                "description": "Not authenticated",
                "content": {"application/json": {"schema": _ERROR}},
            },
            "404": {
                "description": "No such job of yours",
                "content": {"application/json": {"schema": _ERROR}},
            },
        },
    }
