"""The Pixelsmith MCP server: one definition (`build_server`), served over streamable HTTP
at /mcp (apps.mcpserver.http) and over stdio (`manage.py mcp`).

Its tools are thin adapters: runs go through the submission service like every other way
in (apps.mcpserver.runs), reads through the same scoped lookups as /api/v1
(apps.mcpserver.catalog). Every call acts as one user, with that user's files, jobs,
quota and limits (apps.mcpserver.identity).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from apps.jobs.lookup import job_or_404
from apps.mcpserver import catalog, runs
from apps.mcpserver.calls import answer, caller_of, error_body, error_result, job_result, off_loop
from apps.mcpserver.identity import CallerSource
from config import __version__

INSTRUCTIONS = (
    "Pixelsmith processes images with about fifty tools (resize, convert, upscale, remove "
    "backgrounds, OCR...). Call list_tools for the tools and their settings schemas. Inputs "
    "are library file ids (list_files) or base64 image data, never URLs. Results are saved "
    "in the caller's library: they come back with file ids and download URLs, and small "
    "images inline. Long jobs: pass wait=false, then wait_for_job."
)
MAX_WAIT_S = 600

FileId = Annotated[str | None, Field(description="A library file id (see list_files).")]
FileIds = Annotated[
    list[str] | None,
    Field(description="Library file ids, in order, for tools taking several images."),
]
Base64 = Annotated[
    str | None,
    Field(description="An image as base64 (a data: prefix is fine); never a URL."),
]
Filename = Annotated[str, Field(description="Name for the base64 image in the library.")]
Save = Annotated[
    bool,
    Field(
        description="Save the result as the next version of the input's library file "
        "(a base64 input becomes a library file first). false: the result stays with the job."
    ),
]
Wait = Annotated[bool, Field(description="Wait for the result (false: answer the jobId at once).")]
WaitS = Annotated[
    float, Field(ge=0, le=MAX_WAIT_S, description="Seconds to wait at most before answering.")
]
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)


async def list_tools(
    ctx: Context,
    category: Annotated[str | None, Field(description="Only this category.")] = None,
    tool_id: Annotated[str | None, Field(description="Only this tool.")] = None,
    include_schemas: Annotated[
        bool, Field(description="false: a short overview without the settings schemas.")
    ] = True,
) -> CallToolResult:
    """The image tools: id, what each takes and returns, whether it is enabled, and its
    settings as a JSON schema (what run_tool's `settings` must match)."""
    return await answer(ctx, catalog.list_tools, category, tool_id, include_schemas)


async def run_tool(
    ctx: Context,
    tool_id: Annotated[str, Field(description="The tool's id, e.g. resize (see list_tools).")],
    settings: Annotated[
        dict[str, Any] | None, Field(description="The tool's settings (its JSON schema).")
    ] = None,
    file_id: FileId = None,
    file_ids: FileIds = None,
    image_base64: Base64 = None,
    filename: Filename = "image",
    save_to_library: Save = True,
    wait: Wait = True,
    timeout_s: WaitS = 60,
) -> CallToolResult:
    """Run one tool on a library file or a base64 image. Answers the job, the library file
    the result became (id + download URL), and the image inline when it is small."""
    given = runs.Given(file_id, file_ids or (), image_base64, filename, save_to_library)
    try:
        caller = await caller_of(ctx)
        job = await off_loop(runs.run_tool, caller.user, tool_id, settings, given, wait)
        return await job_result(ctx, caller, job, timeout_s if wait else 0)
    except Exception as exc:
        return error_result(error_body(exc))


async def run_pipeline(
    ctx: Context,
    steps: Annotated[
        list[dict[str, Any]],
        Field(description='The steps in order: [{"toolId": "resize", "settings": {...}}, ...]'),
    ],
    file_id: FileId = None,
    file_ids: FileIds = None,
    image_base64: Base64 = None,
    filename: Filename = "image",
    save_to_library: Save = True,
    wait: Wait = True,
    timeout_s: WaitS = 60,
) -> CallToolResult:
    """Run several tools in a row (each step's image feeds the next); every step is checked
    before any runs. Inputs and results as for run_tool."""
    given = runs.Given(file_id, file_ids or (), image_base64, filename, save_to_library)
    try:
        caller = await caller_of(ctx)
        job = await off_loop(runs.run_pipeline, caller.user, steps, given, wait)
        return await job_result(ctx, caller, job, timeout_s if wait else 0)
    except Exception as exc:
        return error_result(error_body(exc))


async def get_job(ctx: Context, job_id: str) -> CallToolResult:
    """A job's status and progress; once done, its result (file id, download URL, image)."""
    return await answer(ctx, catalog.get_job, job_id)


async def wait_for_job(ctx: Context, job_id: str, timeout_s: WaitS = 120) -> CallToolResult:
    """Wait until the job ends (or timeout_s passes), sending progress notifications with
    its real percent and stage meanwhile; then answer as get_job."""
    try:
        caller = await caller_of(ctx)
        job = await off_loop(job_or_404, caller.user, job_id)
        return await job_result(ctx, caller, job, timeout_s)
    except Exception as exc:
        return error_result(error_body(exc))


async def cancel_job(ctx: Context, job_id: str) -> CallToolResult:
    """Cancel a queued job, or ask a running one to stop."""
    return await answer(ctx, catalog.cancel_job, job_id)


async def list_files(
    ctx: Context,
    search: Annotated[str, Field(description="Part of the file name, any case.")] = "",
    limit: Annotated[int, Field(ge=1, le=catalog.MAX_LIST)] = 50,
    offset: Annotated[int, Field(ge=0)] = 0,
) -> CallToolResult:
    """The caller's library files, newest first: id, name, size, format, version."""
    return await answer(ctx, catalog.list_files, search, limit, offset)


async def get_file(
    ctx: Context,
    file_id: str,
    include_image: Annotated[
        bool, Field(description="Also return the latest version inline (up to 512 KB).")
    ] = False,
) -> CallToolResult:
    """A library file with its versions and how each was made; its download URL."""
    return await answer(ctx, catalog.get_file, file_id, include_image)


async def queue_status(ctx: Context) -> CallToolResult:
    """The queue: its length, what is running, the caller's waiting jobs and positions."""
    return await answer(ctx, catalog.queue_status)


async def gpu_status(ctx: Context) -> CallToolResult:
    """GPUs and their memory, onnxruntime's providers, which models are loaded where."""
    return await answer(ctx, catalog.gpu_status)


async def list_models(
    ctx: Context,
    task: Annotated[str | None, Field(description="e.g. upscale, face-restore")] = None,
    scale: Annotated[int | None, Field(description="Upscalers with this factor.")] = None,
) -> CallToolResult:
    """The AI models: installed or not, licence, scales, where they are loaded."""
    return await answer(ctx, catalog.list_models, task, scale)


TOOLS: list[tuple[Callable[..., Any], ToolAnnotations]] = [
    (list_tools, READ),
    (run_tool, WRITE),
    (run_pipeline, WRITE),
    (get_job, READ),
    (wait_for_job, READ),
    (cancel_job, WRITE),
    (list_files, READ),
    (get_file, READ),
    (queue_status, READ),
    (gpu_status, READ),
    (list_models, READ),
]


def build_server(default_caller: CallerSource | None = None) -> MCPServer:
    """The server; `default_caller` is who calls arriving without an HTTP request act as
    (stdio, in-process clients). HTTP calls always carry their own, checked per request."""

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[dict[str, Any]]:
        yield {"caller": default_caller}

    server: MCPServer = MCPServer(
        "pixelsmith",
        title="Pixelsmith",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
    )
    for fn, hints in TOOLS:
        description = inspect.cleandoc(fn.__doc__ or "")
        server.add_tool(fn, description=description, annotations=hints, structured_output=False)
    return server
