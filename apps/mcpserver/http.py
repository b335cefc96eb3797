"""/mcp: the MCP server over streamable HTTP, next to Django in config/asgi.py.

Each request is checked before the MCP SDK sees it: the Host against ALLOWED_HOSTS, the
bearer credential against our database (401 `{"error", "code"}` with WWW-Authenticate
otherwise), the caller's RATE_LIMIT_PER_MIN (429). The caller then travels in the ASGI
scope to the tool calls (apps.mcpserver.calls.caller_of).

Stateless mode: every POST is served on its own, with no session kept in memory, so any
uvicorn worker (--workers N) can answer any request and a restart loses nothing; jobs
and files live in the database anyway. Responses are SSE streams rather than plain JSON
so that a tool call can send progress notifications before its result.

The SDK's session manager needs a running task group: started by the first request (the
server loads this module then: config.asgi.LazyMcp), or by the ASGI lifespan where this
app is given it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from apps.core.errors import DATABASE_BUSY_MESSAGE, ApiError, database_busy
from apps.core.throttling import ApiRateThrottle
from apps.mcpserver.calls import SCOPE_KEY, off_loop
from apps.mcpserver.identity import Caller, from_authorization
from apps.mcpserver.server import build_server

log = logging.getLogger(__name__)

Scope = dict[str, Any]


class McpHttp:
    """The ASGI app serving /mcp (config.asgi.MCP_PATHS), and its lifespan."""

    def __init__(self) -> None:
        self.manager: StreamableHTTPSessionManager | None = None
        self.runner: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.stopping = asyncio.Event()
        self.failure: BaseException | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        try:
            caller = await self.authenticate(scope)
            await self.start()
        except Exception as exc:
            await reject(send, as_api_error(exc))
            return
        assert self.manager is not None
        await self.manager.handle_request({**scope, SCOPE_KEY: caller}, receive, send)

    async def authenticate(self, scope: Scope) -> Caller:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        domain, _ = split_domain_port(host)
        if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
            raise ApiError(400, "DISALLOWED_HOST", "Invalid Host header")
        base_url = f"{scope.get('scheme', 'http')}://{host}"
        caller = await off_loop(from_authorization, headers.get("authorization", ""), base_url)
        await off_loop(throttle, caller, scope)
        return caller

    async def start(self) -> None:
        """Run the session manager (its task group) for the rest of the process, once."""
        if self.runner is None:
            self.runner = asyncio.get_running_loop().create_task(self.serve())
        await self.ready.wait()
        if self.failure is not None:
            raise ApiError(503, "MCP_UNAVAILABLE", "The MCP server could not start") from None

    async def serve(self) -> None:
        try:
            self.manager = session_manager()
            async with self.manager.run():
                self.ready.set()
                await self.stopping.wait()
        except Exception as exc:
            log.exception("The MCP session manager stopped")
            self.failure = exc
        finally:
            self.ready.set()  # nobody waits for a start that failed

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except ApiError as exc:
                    await send({"type": "lifespan.startup.failed", "message": exc.message})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def stop(self) -> None:
        """End the session manager, if it started."""
        self.stopping.set()
        if self.runner is not None:
            await self.runner


def session_manager() -> StreamableHTTPSessionManager:
    server = build_server()
    server.streamable_http_app(
        stateless_http=True,
        json_response=False,
        # Our own checks ran before (ALLOWED_HOSTS, and a bearer key no web page can send).
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=settings.MAX_UPLOAD_SIZE_MB * 1024 * 1024,
    )
    return server.session_manager


def throttle(caller: Caller, scope: Scope) -> None:
    """RATE_LIMIT_PER_MIN, counted with the REST API's (same buckets: key, user or IP)."""
    limiter = ApiRateThrottle()
    client = scope.get("client") or ("", 0)
    who = SimpleNamespace(user=caller.user, auth=caller.auth, META={"REMOTE_ADDR": client[0]})
    if limiter.allow_request(who, None):  # type: ignore[arg-type]
        return
    wait = max(1, math.ceil(limiter.wait() or 1))
    raise ApiError(429, "RATE_LIMITED", "Request was throttled.", retryAfter=wait)


def as_api_error(exc: Exception) -> ApiError:
    """Our errors as they are; a database without a free connection 503; anything else
    logged, and a JSON 500 rather than the server's bare one."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, DatabaseError) and database_busy(exc):
        return ApiError(503, "DATABASE_BUSY", DATABASE_BUSY_MESSAGE, retryAfter=1)
    log.exception("/mcp failed before the MCP server saw the request", exc_info=exc)
    return ApiError(500, "INTERNAL_ERROR", "Internal server error")


async def reject(send: Any, error: ApiError) -> None:
    body = json.dumps({"error": error.message, "code": error.code, **error.extra}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if error.status_code == 401:
        headers.append((b"www-authenticate", b'Bearer realm="pixelsmith"'))
    if "retryAfter" in error.extra:
        headers.append((b"retry-after", str(error.extra["retryAfter"]).encode()))
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
