"""GET /api/v1/jobs/<id>/progress: Server-Sent Events from the Job row.

An async view so a waiting client holds no thread: it polls the row twice a second,
sends an event whenever something changed (and a comment every 15 s to keep proxies
from closing the stream), and ends after completed/failed/cancelled. A finished job's
final event is sent at once. Nor does a waiting client hold a database connection: each
poll hands its connection back (to the pool), or a few streams would take them all.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.accounts.authentication import SessionTokenAuthentication
from apps.apikeys.authentication import ApiKeyAuthentication
from apps.core.errors import database_busy, error_response
from apps.jobs.models import Job

POLL_S = 0.5
KEEPALIVE_S = 15.0


def caller(request: HttpRequest) -> Any:
    """The authenticated user, None for anonymous; raises AuthenticationFailed."""
    drf_request = Request(request)
    for authenticator in (ApiKeyAuthentication(), SessionTokenAuthentication()):
        found = authenticator.authenticate(drf_request)
        if found is not None:
            return found[0]
    return None


def event(job: Job) -> dict[str, Any]:
    data: dict[str, Any] = {
        "jobId": str(job.pk),
        "progress": int(job.percent) if float(job.percent).is_integer() else job.percent,
        "status": job.status,
        "message": job.message,
        "stage": job.stage,
        "items": {"total": job.items_total, "done": job.items_done, "failed": job.items_failed},
    }
    if job.error_code:
        data["error"] = {"code": job.error_code, "message": job.error_message}
    return data


def release_connection() -> None:
    """Close this thread's connection (with a pool: return it). Async ORM calls run in the
    request's thread, whose connection Django would otherwise keep until the stream ends.
    Inside a transaction (a test's) the connection has to stay."""
    if not connection.in_atomic_block:
        connection.close()


def poll(job_id: UUID) -> Job:
    try:
        return Job.objects.get(pk=job_id)
    finally:
        release_connection()


async def events(job_id: UUID) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    last_sent = time.monotonic()
    while True:
        try:
            job = await sync_to_async(poll)(job_id)
        except DatabaseError as exc:
            if not database_busy(exc):
                raise
            await asyncio.sleep(POLL_S)  # no free connection this time: the stream goes on
            continue
        current = event(job)
        if current != last:
            yield f"data: {json.dumps(current)}\n\n"
            last, last_sent = current, time.monotonic()
        elif time.monotonic() - last_sent > KEEPALIVE_S:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        if job.finished:
            return
        await asyncio.sleep(POLL_S)


async def progress(request: HttpRequest, job_id: UUID) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD"):
        return error_response(405, "METHOD_NOT_ALLOWED", f'Method "{request.method}" not allowed.')
    try:
        user = await sync_to_async(caller)(request)
    except AuthenticationFailed as exc:
        return error_response(401, "AUTH_INVALID", str(exc.detail))
    if user is None and settings.AUTH_ENABLED:
        return error_response(401, "AUTH_REQUIRED", "Authentication credentials were not provided.")
    visible = await Job.objects.visible_to(user).filter(pk=job_id).aexists()
    await sync_to_async(release_connection)()
    if not visible:
        return error_response(404, "NOT_FOUND", "Job not found")
    response = StreamingHttpResponse(events(job_id), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: don't buffer the stream
    return response
