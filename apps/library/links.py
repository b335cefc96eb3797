"""Library files named by a request: `fileId` (tool calls, pipelines: in the settings or
as a form field) or `fileIds` (batches).

Such a file's latest version can stand in for an upload, and an image result becomes
the file's next version (apps.jobs.results saves it, with its provenance).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from apps.core.errors import ApiError
from apps.library.models import StoredFile
from apps.library.services import visible_file, visible_files


def target_file(user: Any, file_id: Any) -> StoredFile | None:
    """The visible library file a request names, None if it names none; 404 otherwise."""
    if file_id in (None, ""):
        return None
    if not isinstance(file_id, str):
        raise ApiError(400, "VALIDATION_ERROR", "fileId must be a string (a library file id)")
    return visible_file(user, file_id)


def target_files(user: Any, raw: Any) -> list[StoredFile]:
    """`fileIds`: a JSON array (or a repeated form field) of visible library file ids."""
    if raw in (None, "", []):
        return []
    ids = raw
    if isinstance(raw, str):
        try:
            ids = json.loads(raw) if raw.lstrip().startswith("[") else [raw]
        except (json.JSONDecodeError, RecursionError):
            raise ApiError(400, "VALIDATION_ERROR", "fileIds must be a JSON array") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "VALIDATION_ERROR", "fileIds must be an array of file ids")
    if len(ids) > settings.MAX_BATCH_SIZE:  # before any lookup: 20,000 ids cost seconds
        raise ApiError(
            400,
            "TOO_MANY_FILES",
            f"{len(ids)} fileIds sent; a batch takes at most {settings.MAX_BATCH_SIZE}",
        )
    return visible_files(user, ids)
