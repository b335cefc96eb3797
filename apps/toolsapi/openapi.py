"""drf-spectacular post-processing: one documented path per registered tool.

The run endpoint is one Django route, but clients need each tool's settings schema,
so every tool gets `POST /api/v1/tools/<id>` with its pydantic schema in components.
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


def _settings_schema(tool: Tool, schemas: dict[str, Any]) -> str:
    schema = tool.settings.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    name = "".join(part.capitalize() for part in tool.id.split("-")) + "Settings"
    schemas[name] = schema
    return name


def _request_body(tool: Tool, settings_name: str) -> dict[str, Any]:
    binary = {"type": "string", "format": "binary"}
    properties: dict[str, Any] = {
        "settings": {
            "type": "string",
            "description": f"JSON object, see {settings_name}",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": REF.format(model=settings_name)},
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
            "description": "The processed file (X-Job-Id header names the job)",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
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
    return {"200": ok, **errors}


def add_tool_paths(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    paths = result.setdefault("paths", {})
    for tool in registry.all_tools():
        settings_name = _settings_schema(tool, schemas)
        paths[f"/api/v1/tools/{tool.id}"] = {
            "post": {
                "operationId": f"tool_{tool.id.replace('-', '_')}",
                "summary": tool.name,
                "description": tool.description,
                "tags": [f"tools: {tool.category}"],
                "requestBody": _request_body(tool, settings_name),
                "responses": _responses(tool),
            }
        }
        if tool.inputs is Inputs.ONE:
            paths[f"/api/v1/tools/{tool.id}/batch"] = {
                "post": _batch_operation(tool, settings_name)
            }
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
        "requestBody": body,
        "responses": {**_responses(tool), "200": zip_ok},
    }
