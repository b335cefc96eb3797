"""The MCP tools that read: the tool catalog, jobs, the library, the queue, the GPUs and
the AI models. Each is a plain function of the caller (sync, ORM), scoped like /api/v1:
another user's job or file is "not found", an admin sees everyone's.
"""

from __future__ import annotations

from django.conf import settings

from apps.core.errors import ApiError
from apps.jobs import lookup
from apps.jobs.steps import ToolPolicy
from apps.library.answers import file_json, version_json
from apps.library.services import files_visible_to, latest_version, visible_file
from apps.mcpserver.answers import Answer, job_answer, version_image
from apps.mcpserver.identity import Caller
from apps.models.runtime import loaded_by_model
from apps.models.services import listed, model_json
from apps.system.features import hardware

MAX_LIST = 200  # list_files answers at most this many files per call


def list_tools(
    caller: Caller,
    category: str | None = None,
    tool_id: str | None = None,
    include_schemas: bool = True,
) -> Answer:
    """Every visible tool (or those of `category`, or the one `tool_id`) with whether it
    is enabled and, unless left out, its settings JSON schema (~110 KB for all of them)."""
    policy = ToolPolicy.current()
    tools = [
        {**t.describe(), "enabled": t.id not in policy.disabled}
        for t in policy.visible_tools()
        if (category is None or t.category == category) and (tool_id in (None, t.id))
    ]
    if tool_id is not None and not tools:
        raise ApiError(404, "TOOL_NOT_FOUND", f"Unknown tool: {tool_id[:64]}")
    if not include_schemas:
        for tool in tools:
            del tool["settings"]
    return Answer({"tools": tools, "count": len(tools)})


def get_job(caller: Caller, job_id: str, inline: bool = True) -> Answer:
    return job_answer(lookup.job_or_404(caller.user, job_id), caller.base_url, inline)


def cancel_job(caller: Caller, job_id: str) -> Answer:
    job = lookup.job_or_404(caller.user, job_id)
    return Answer({"jobId": str(job.pk), "status": lookup.cancel(job)})


def list_files(caller: Caller, search: str = "", limit: int = 50, offset: int = 0) -> Answer:
    """The caller's files, newest first, optionally those whose name contains `search`."""
    if not 1 <= limit <= MAX_LIST or offset < 0:
        raise ApiError(400, "VALIDATION_ERROR", f"limit is 1 to {MAX_LIST}, offset 0 or more")
    files = files_visible_to(caller.user).order_by("-updated_at", "-id")
    if search.strip():
        files = files.filter(search_name__contains=search.strip().casefold())
    page = [file_json(f, caller.base_url) for f in files[offset : offset + limit]]
    return Answer({"files": page, "total": files.count(), "offset": offset, "limit": limit})


def get_file(caller: Caller, file_id: str, include_image: bool = False) -> Answer:
    """A library file with its versions and their provenance; its latest version inline
    when asked for and small enough."""
    stored = visible_file(caller.user, file_id)
    data = {
        **file_json(stored, caller.base_url),
        "versions": [version_json(v) for v in stored.versions.all()],
    }
    if not include_image:
        return Answer(data)
    return Answer(data, *version_image(latest_version(stored)))


def queue_status(caller: Caller) -> Answer:
    return Answer(lookup.queue_summary(caller.user))


def gpu_status(caller: Caller) -> Answer:
    """GPUs (NVML) with their memory, the execution providers onnxruntime offers, and
    which models the workers hold loaded, on which device."""
    return Answer({**hardware(), "gpuQueue": settings.GPU_QUEUE, "loadedModels": loaded_by_model()})


def list_models(caller: Caller, task: str | None = None, scale: int | None = None) -> Answer:
    loaded = loaded_by_model()
    return Answer({"models": [model_json(spec, loaded) for spec in listed(task, scale)]})
