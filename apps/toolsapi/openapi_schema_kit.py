"""Small builders of JSON Schema dicts for the hand-written answer schemas
(openapi_answers.py, openapi_answers_compat.py): they keep those tables short."""

from __future__ import annotations

from typing import Any

STR: dict[str, Any] = {"type": "string"}
NSTR: dict[str, Any] = {"type": ["string", "null"]}
INT: dict[str, Any] = {"type": "integer"}
NINT: dict[str, Any] = {"type": ["integer", "null"]}
NUM: dict[str, Any] = {"type": "number"}
NNUM: dict[str, Any] = {"type": ["number", "null"]}
BOOL: dict[str, Any] = {"type": "boolean"}
UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
NTIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def obj(_optional: dict[str, Any] | None = None, **required: Any) -> dict[str, Any]:
    """An object whose keyword fields are always sent (their values may still be null
    where their schema says so) and whose `_optional` fields are sent only sometimes."""
    properties = {**required, **(_optional or {})}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def ref(model: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model}"}
