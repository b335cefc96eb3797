"""What a run request carries: its files, its settings field, library ids, async or not.

Shared by every surface that submits work over multipart HTTP (the tools API, pipelines,
the web UI), so a file field or a flag means the same everywhere.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from rest_framework.request import Request

from apps.core.errors import ApiError
from apps.core.uploads import first_upload
from apps.jobs import staging
from tools.base import Inputs, Tool

# Multipart field names for each input kind; later names are accepted aliases.
FILE_FIELDS = ("file", "image")
SECOND_FILE_FIELDS = ("overlay", "file2", "second")
MANY_FILES_FIELD = "files"


def json_field(request: Request, field: str, code: str) -> Any:
    """A form field holding JSON (or a JSON body's value), parsed; None when absent."""
    if not isinstance(request.data, dict):  # a JSON array body instead of multipart
        raise ApiError(400, "INVALID_REQUEST_BODY", "Send an object: multipart form or JSON")
    raw = request.data.get(field)
    if raw is None or raw == "":
        return None
    if isinstance(raw, UploadedFile):
        raw = raw.read().decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(400, code, f"{field} is not valid JSON: {exc.msg}") from None
    except RecursionError:  # nested thousands of levels deep
        raise ApiError(400, code, f"{field} is nested too deeply") from None


def settings_field(request: Request) -> dict[str, Any]:
    """The `settings` field: a JSON object, {} when absent."""
    if not isinstance(request.data, dict):
        raise ApiError(400, "INVALID_REQUEST_BODY", "Send multipart/form-data: file + settings")
    value = json_field(request, "settings", "INVALID_SETTINGS_JSON")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, "INVALID_SETTINGS_JSON", "settings must be a JSON object")
    return value


def uploads_for(tool: Tool, request: Request) -> list[UploadedFile]:
    """The uploaded files in the order `tool` takes them."""

    def first(fields: tuple[str, ...]) -> UploadedFile | None:
        return next((request.FILES.get(f) for f in fields if f in request.FILES), None)

    if tool.inputs is Inputs.NONE:
        return []
    if tool.inputs is Inputs.MANY:
        files = request.FILES.getlist(MANY_FILES_FIELD) or request.FILES.getlist("file")
        if not files:
            raise ApiError(400, "NO_FILE", "No files uploaded: send multipart fields 'files'")
        if len(files) < tool.min_inputs:
            raise ApiError(
                400,
                "WRONG_INPUT_COUNT",
                f"{tool.id} takes {tool.min_inputs} or more files, got {len(files)}",
            )
        return files
    if tool.inputs is Inputs.OPTIONAL:
        main = first(FILE_FIELDS)
        return [main] if main is not None else []
    main = first_upload(request, FILE_FIELDS)
    if tool.inputs is Inputs.ONE:
        return [main]
    second = first(SECOND_FILE_FIELDS)
    if second is None:
        raise ApiError(400, "NO_FILE", f"{tool.id} needs a second file in the field 'overlay'")
    return [main, second]


def has_file(request: Request) -> bool:
    return any(field in request.FILES for field in FILE_FIELDS)


def batch_uploads(request: Request, extra: int = 0) -> list[UploadedFile]:
    """The files of a batch, in upload order; with `extra` library files, 1 to
    MAX_BATCH_SIZE inputs in all.

    `files` is the documented field; repeated `file` fields are accepted too, and
    `uploadIds` names staged uploads (apps.jobs.staging), which come after the files.
    """
    files = request.FILES.getlist(MANY_FILES_FIELD) or request.FILES.getlist(FILE_FIELDS[0])
    files = [*files, *staging.staged_files(request)]
    if not files and not extra:
        raise ApiError(400, "NO_FILE", "No files uploaded: send multipart fields 'files'")
    if len(files) + extra > settings.MAX_BATCH_SIZE:
        raise ApiError(
            400,
            "TOO_MANY_FILES",
            f"{len(files) + extra} files sent; a batch takes at most {settings.MAX_BATCH_SIZE}",
        )
    return files


def library_ids(request: Request, raw_settings: dict[str, Any]) -> Any:
    """`fileIds` of a batch: in the settings (as `fileId` is for one file) or a form field."""
    if "fileIds" in raw_settings:
        return raw_settings.pop("fileIds")
    data = request.data
    if hasattr(data, "getlist") and len(data.getlist("fileIds")) > 1:
        return data.getlist("fileIds")
    return data.get("fileIds") if isinstance(data, dict) else None


def wants_async(request: Request) -> bool:
    """`Prefer: respond-async` (RFC 7240) or a form field async=true."""
    prefer = request.META.get("HTTP_PREFER", "").lower()
    flag = str(request.data.get("async", "")).lower() if isinstance(request.data, dict) else ""
    return "respond-async" in prefer or flag in {"1", "true", "yes"}
