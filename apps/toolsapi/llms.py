"""/llms.txt and /llms-full.txt: the API summarised for language models, from the registry."""

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tools import registry
from tools.base import Inputs, Tool

INTRO = """# Pixelsmith

> Self-hosted image processing server (version {version}). Every tool is
> `POST /api/v1/tools/<toolId>` with multipart `file` (or `files`, or `file` + `overlay`)
> and a `settings` JSON string. The response is the processed file (header `X-Job-Id`),
> or JSON for analysis tools. Errors are JSON: {{"error": "...", "code": "..."}}.

Auth: `POST /api/auth/login` with {{"username","password"}} returns {{"token"}}; send
`Authorization: Bearer <token>` or an API key (`Bearer si_...`, from `POST /api/v1/api-keys`).
Specs: /api/v1/openapi.yaml (OpenAPI 3.1), interactive docs at /api/docs,
every tool's settings at /llms-full.txt.
"""


def _files_part(tool: Tool) -> str:
    return {
        Inputs.NONE: "",
        Inputs.OPTIONAL: ' -F "file=@logo.png"',
        Inputs.ONE: ' -F "file=@input.jpg"',
        Inputs.TWO: ' -F "file=@input.jpg" -F "overlay=@second.png"',
        Inputs.MANY: ' -F "files=@a.jpg" -F "files=@b.jpg"',
    }[tool.inputs]


def _flatten(spec: dict[str, Any]) -> dict[str, Any]:
    """An optional field is anyOf [X, null]: describe it by X's type and constraints."""
    options = [o for o in spec.get("anyOf", []) if o.get("type") != "null"]
    if len(options) != 1:
        return spec
    return {**options[0], **{k: v for k, v in spec.items() if k != "anyOf"}}


def _field_line(name: str, spec: dict[str, Any], required: bool) -> str:
    spec = _flatten(spec)
    kind = spec.get("type") or " | ".join(
        str(o.get("type", o.get("$ref", "?"))).split("/")[-1] for o in spec.get("anyOf", [])
    )
    parts = [f"- `{name}` ({kind}{', required' if required else ''})"]
    if "enum" in spec:
        parts.append("one of " + ", ".join(map(str, spec["enum"])))
    for key, label in [("minimum", "min"), ("maximum", "max"), ("default", "default")]:
        if key in spec:
            parts.append(f"{label} {json.dumps(spec[key])}")
    if spec.get("description"):
        parts.append(spec["description"])
    return " — ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]


def _field_lines(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    return [_field_line(n, s, n in required) for n, s in schema.get("properties", {}).items()]


def _settings_lines(schema: dict[str, Any]) -> list[str]:
    """One line per field; settings that are one model per mode (`oneOf` + `discriminator`)
    get a line per mode (its values and description), then that mode's own fields."""
    if "discriminator" not in schema:
        return _field_lines(schema)
    key = schema["discriminator"]["propertyName"]
    lines = []
    for option in schema["oneOf"]:
        mode = schema["$defs"][option["$ref"].split("/")[-1]]
        tag = mode["properties"][key]
        values = ", ".join(f"`{v}`" for v in tag.get("enum", [tag.get("const")]))
        default = " (the default)" if "default" in tag else ""
        lines.append(f"- `{key}` {values}{default}: {mode.get('description', '')}")
        own = [line for line in _field_lines(mode) if not line.startswith(f"- `{key}` (")]
        lines += ["  " + line for line in own]
    return lines


def tool_section(tool: Tool) -> str:
    fields = _settings_lines(tool.settings.model_json_schema())
    lines = [
        f"## {tool.name} (`{tool.id}`)",
        "",
        tool.description,
        "",
        f"Input: {tool.inputs.value} file(s). Output: {tool.output.value}. Runs on: {tool.device}.",
        "",
        "Settings:" if fields else "Settings: none.",
        *fields,
        "",
        "```bash",
        f"curl -X POST http://localhost:1349/api/v1/tools/{tool.id} \\",
        f"  -H \"Authorization: Bearer $TOKEN\"{_files_part(tool)} -F 'settings={{}}' -OJ",
        "```",
        "",
    ]
    return "\n".join(lines)


def llms_txt(request: HttpRequest) -> HttpResponse:
    lines = [INTRO.format(version=settings.VERSION), "## Tools", ""]
    lines += [f"- `{t.id}` — {t.name}: {t.description}" for t in registry.all_tools()]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def llms_full_txt(request: HttpRequest) -> HttpResponse:
    body = (
        INTRO.format(version=settings.VERSION)
        + "\n"
        + "\n".join(tool_section(t) for t in registry.all_tools())
    )
    return HttpResponse(body, content_type="text/plain; charset=utf-8")
