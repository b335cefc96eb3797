"""GET /api/v1/jobs/<id>/progress: Server-Sent Events from the Job row.

An async view so a waiting client holds no thread: it polls the row twice a second,
sends an event whenever something changed (and a comment every 15 s to keep proxies
from closing the stream), and ends after completed/failed/cancelled. A finished job's
final event is sent at once. Nor does a waiting client hold a database connection: each
poll hands its connection back (to the pool), or a few streams would take them all.

Opening a stream counts against RATE_LIMIT_PER_MIN like any API call (429). The caller's
credentials are checked again every RECHECK_S: a stream whose session was ended (logout,
a password or role change) or whose API key was deleted ends with an `event: error`.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.accounts.authentication import (
    BrowserSessionAuthentication,
    SessionTokenAuthentication,
)
from apps.apikeys.authentication import ApiKeyAuthentication
from apps.core.errors import ApiError, database_busy, error_response
from apps.core.throttling import ApiRateThrottle
from apps.jobs.eta import queue_position
from apps.jobs.models import Job
from apps.jobs.progress_links import signature_fits

POLL_S = 0.5
KEEPALIVE_S = 15.0
RECHECK_S = 5.0
REVOKED = "event: error\ndata: " + json.dumps(
    {"code": "AUTH_REVOKED", "error": "The session or API key ended: sign in again"}
)


def credentials(request: HttpRequest) -> tuple[Any, Any]:
    """(user, session or API key) of the caller, (None, None) for anonymous; raises
    AuthenticationFailed, or ApiError (a password to change first)."""
    drf_request = Request(request)
    # The browser's session cookie too: an EventSource cannot send a bearer header.
    authenticators = (
        ApiKeyAuthentication(),
        SessionTokenAuthentication(),
        BrowserSessionAuthentication(),
    )
    for authenticator in authenticators:
        found = authenticator.authenticate(drf_request)
        if found is not None:
            return found
    return None, None


def still_signed_in(request: HttpRequest) -> bool:
    """Whether the stream's credentials still hold (anonymous streams: AUTH_ENABLED off)."""
    try:
        user, _ = credentials(request)
    except (AuthenticationFailed, ApiError):
        return False
    return user is not None or not settings.AUTH_ENABLED


def throttled(request: HttpRequest, user: Any, auth: Any) -> HttpResponseBase | None:
    """429 when opening this stream passes the caller's API rate limit."""
    throttle = ApiRateThrottle()
    who = SimpleNamespace(user=user, auth=auth, META=request.META)
    if throttle.allow_request(who, None):  # type: ignore[arg-type]
        return None
    wait = max(1, math.ceil(throttle.wait() or 1))
    response = error_response(429, "RATE_LIMITED", "Request was throttled.", retryAfter=wait)
    response["Retry-After"] = str(wait)
    return response


def event(job: Job, position: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "jobId": str(job.pk),
        "progress": int(job.percent) if float(job.percent).is_integer() else job.percent,
        "status": job.status,
        "message": job.message,
        "stage": job.stage,
        "items": {"total": job.items_total, "done": job.items_done, "failed": job.items_failed},
    }
    if position is not None:  # a queued job: where it stands, so a waiting page can say
        data["queuePosition"] = position
    if job.error_code:
        data["error"] = {"code": job.error_code, "message": job.error_message}
    return data


def release_connection() -> None:
    """Close this thread's connection (with a pool: return it). Async ORM calls run in the
    request's thread, whose connection Django would otherwise keep until the stream ends.
    Inside a transaction (a test's) the connection has to stay."""
    if not connection.in_atomic_block:
        connection.close()


def poll(job_id: UUID) -> tuple[Job, int | None]:
    """The job, and its queue position while it waits."""
    try:
        job = Job.objects.get(pk=job_id)
        return job, queue_position(job)
    finally:
        release_connection()


async def events(
    job_id: UUID, signed_in: Callable[[], Awaitable[bool]] | None = None
) -> AsyncIterator[str]:
    """The stream's chunks; `signed_in` is asked every RECHECK_S whether to go on."""
    last: dict[str, Any] | None = None
    last_sent = last_check = time.monotonic()
    while True:
        if signed_in is not None and time.monotonic() - last_check >= RECHECK_S:
            last_check = time.monotonic()
            if not await signed_in():
                yield REVOKED + "\n\n"
                return
        try:
            job, position = await sync_to_async(poll)(job_id)
        except DatabaseError as exc:
            if not database_busy(exc):
                raise
            await asyncio.sleep(POLL_S)  # no free connection this time: the stream goes on
            continue
        current = event(job, position)
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
    if "sig" in request.GET:
        return await by_signed_link(request, job_id)
    try:
        user, auth = await sync_to_async(credentials)(request)
    except AuthenticationFailed as exc:
        return error_response(401, "AUTH_INVALID", str(exc.detail))
    except ApiError as exc:
        return error_response(exc.status_code, exc.code, exc.message)
    if user is None and settings.AUTH_ENABLED:
        return error_response(401, "AUTH_REQUIRED", "Authentication credentials were not provided.")
    if (refused := throttled(request, user, auth)) is not None:
        return refused
    visible = await Job.objects.visible_to(user).filter(pk=job_id).aexists()
    await sync_to_async(release_connection)()
    if not visible:
        return error_response(404, "NOT_FOUND", "Job not found")

    async def signed_in() -> bool:
        try:
            return await sync_to_async(still_signed_in)(request)
        finally:
            await sync_to_async(release_connection)()

    return event_stream(events(job_id, signed_in))


async def by_signed_link(request: HttpRequest, job_id: UUID) -> HttpResponseBase:
    """The stream of a signed progress URL: no other credential, this job only."""
    if not signature_fits(request.GET["sig"], job_id):
        return error_response(
            401,
            "LINK_INVALID",
            "This progress link is invalid or has expired: get a fresh signedProgressUrl "
            "from GET /api/v1/jobs/<id>",
        )
    if (refused := throttled(request, None, None)) is not None:
        return refused
    exists = await Job.objects.filter(pk=job_id).aexists()
    await sync_to_async(release_connection)()
    if not exists:
        return error_response(404, "NOT_FOUND", "Job not found")
    return event_stream(events(job_id))


def event_stream(stream: AsyncIterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: don't buffer the stream
    return response
