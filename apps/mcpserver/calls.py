"""The plumbing every MCP tool call goes through: who calls, the ORM off the event loop,
our errors as MCP tool errors, answers as MCP content, and waiting for a job while
sending the client progress notifications.

Errors come back as tool results with `isError` (so an assistant can read and correct
them), their text and structured content our usual `{"error", "code"}` shape; a job that
failed adds its `jobId`. Nothing escapes as a crash: an unexpected exception is logged
and answered INTERNAL_ERROR.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connection
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ContentBlock, ImageContent, TextContent

from apps.core.errors import ApiError, database_busy
from apps.jobs.eta import queue_position
from apps.jobs.lookup import job_or_404
from apps.jobs.models import Job
from apps.mcpserver.answers import Answer, job_answer
from apps.mcpserver.identity import Caller, CallerSource
from tools.base import ToolError

log = logging.getLogger(__name__)

T = TypeVar("T")
SCOPE_KEY = "pixelsmith.caller"  # where apps.mcpserver.http leaves the HTTP caller
POLL_S = 0.5  # a running job's row changes at most twice a second (apps.jobs.context)


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run sync (ORM) code in a worker thread with a connection of its own, given back
    afterwards (to the pool with PostgreSQL): a call may wait for minutes, and holding a
    connection all that time would starve the process's other requests."""

    def fresh(*inner: Any) -> T:
        close_old_connections()
        try:
            return fn(*inner)
        finally:
            if not connection.in_atomic_block:  # (a test's transaction must stay open)
                connection.close()

    return await sync_to_async(fresh, thread_sensitive=False)(*args)


async def caller_of(ctx: Context) -> Caller:
    """The HTTP request's authenticated caller, else the server's own (stdio)."""
    request = ctx.request_context.request
    scope = getattr(request, "scope", None) or {}
    if isinstance(scope.get(SCOPE_KEY), Caller):
        return scope[SCOPE_KEY]
    state = ctx.request_context.lifespan_context
    source: CallerSource | None = state.get("caller") if isinstance(state, dict) else None
    if source is None:
        raise ApiError(401, "AUTH_REQUIRED", "Send an API key: Authorization: Bearer si_…")
    return await off_loop(source)


async def answer(ctx: Context, fn: Callable[..., Answer], *args: Any) -> CallToolResult:
    """`fn(caller, *args)` off the loop, as an MCP result; our errors as tool errors."""
    try:
        caller = await caller_of(ctx)
        return as_result(await off_loop(fn, caller, *args))
    except Exception as exc:
        return error_result(error_body(exc))


def as_result(found: Answer) -> CallToolResult:
    content: list[ContentBlock] = [TextContent(type="text", text=json.dumps(found.data))]
    if found.image is not None:
        data = base64.b64encode(found.image).decode("ascii")
        content.append(ImageContent(type="image", data=data, mime_type=found.media_type))
    return CallToolResult(content=content, structured_content=found.data)


def error_result(body: dict[str, Any]) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(body))],
        structured_content=body,
        is_error=True,
    )


def error_body(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return {"error": exc.message, "code": exc.code, **exc.extra}
    if isinstance(exc, ToolError):
        return {"error": exc.message, "code": exc.code}
    if isinstance(exc, DatabaseError) and database_busy(exc):
        return {"error": "The server is busy: retry shortly", "code": "DATABASE_BUSY"}
    log.exception("MCP tool call failed", exc_info=exc)
    return {"error": "Internal server error", "code": "INTERNAL_ERROR"}


async def job_result(ctx: Context, caller: Caller, job: Job, wait_s: float) -> CallToolResult:
    """The job as an MCP result after waiting up to `wait_s` for it with progress; a
    failed job is a tool error naming it, one still running is no error (wait again)."""
    if wait_s > 0 and not job.finished:
        job = await wait_with_progress(ctx, caller, str(job.pk), wait_s)
    found = await off_loop(job_answer, job, caller.base_url)
    if job.status == Job.Status.FAILED:
        message, code = job.error_message or "The job failed", job.error_code or "JOB_FAILED"
        return error_result({"error": message, "code": code, "jobId": str(job.pk)})
    if job.status == Job.Status.CANCELLED:
        message, code = "The job was cancelled", "JOB_CANCELLED"
        return error_result({"error": message, "code": code, "jobId": str(job.pk)})
    if not job.finished:
        found.data["hint"] = "Still running: call wait_for_job with this jobId"
    return as_result(found)


async def wait_with_progress(ctx: Context, caller: Caller, job_id: str, wait_s: float) -> Job:
    """Poll the job until it ends or `wait_s` passes, sending `notifications/progress`
    (the job's percent of 100, and its message) whenever the percent grows: MCP wants
    each notification's progress higher than the last."""
    deadline = time.monotonic() + wait_s
    sent = -1.0
    while True:
        job, position = await off_loop(_poll, caller, job_id)
        if job.percent > sent or (sent < 0 and not job.finished):
            sent = job.percent
            await ctx.report_progress(job.percent, 100, _progress_text(job, position))
        if job.finished or time.monotonic() >= deadline:
            return job
        await anyio.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def _poll(caller: Caller, job_id: str) -> tuple[Job, int | None]:
    job = job_or_404(caller.user, job_id)
    return job, queue_position(job)


def _progress_text(job: Job, position: int | None) -> str:
    if position is not None:
        return f"queued, position {position}"
    detail = job.message or job.stage  # the tool's words: "removed 266 of 600 seams"
    return f"{job.status}: {detail}" if detail else str(job.status)
