"""ASGI entry point: /mcp goes to the MCP server (apps.mcpserver.http), everything else to
Django; both behind BodyLimit, so oversized uploads are refused before they are read."""

import json
import os
import sys
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application does first

# The event loop thread waits for the GIL each time a request's data arrives or leaves,
# while request threads hold it: Python's default 5 ms between handovers left the cores
# idle under load. 1 ms: +6 % requests/s and -8 % p95 (0.2 ms: worse), bench/http_compare.py.
sys.setswitchinterval(0.001)

from apps.core.asgi import PooledThreadsASGIHandler  # noqa: E402  (after Django is set up)

django_app = PooledThreadsASGIHandler()

from django.conf import settings  # noqa: E402  (after Django is set up)

from tools import imaging  # noqa: E402

# This is the web process: libvips with WEB_VIPS_CONCURRENCY threads per operation
# (workers keep VIPS_CONCURRENCY) and no operation cache (see imaging.configure).
imaging.configure(settings.WEB_VIPS_CONCURRENCY or settings.VIPS_CONCURRENCY, operation_cache=False)

Scope = dict[str, Any]
MCP_PATHS = frozenset({"/mcp", "/mcp/"})


class BodyLimit:
    """Refuse bodies over MAX_UPLOAD_SIZE_MB with 413 JSON without buffering them.

    Django's ASGI handler spools the whole body to disk before any middleware runs,
    so the check has to happen here: at once from Content-Length, or as chunks arrive.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.MAX_UPLOAD_SIZE_MB * 1024 * 1024
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        # isascii: str.isdigit() also accepts "²", which int() refuses.
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await self.reject(send)
            return
        state = {"received": 0, "overflow": False, "started": False}

        async def counting_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["overflow"] = True
                    return {"type": "http.disconnect"}  # makes Django stop reading
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)
        if state["overflow"] and not state["started"]:
            await self.reject(send)

    @staticmethod
    async def reject(send: Any) -> None:
        body = json.dumps(
            {
                "error": f"Request body exceeds the {settings.MAX_UPLOAD_SIZE_MB} MB upload limit",
                "code": "FILE_TOO_LARGE",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class LazyMcp:
    """The MCP server (apps.mcpserver.http), loaded by its first request: the MCP SDK costs
    a process about 25 MiB, which a server nobody asks over MCP need not carry (issue 14).
    It takes the ASGI lifespan, to stop the MCP server with the process if it started."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if self.app is None:
            from apps.mcpserver.http import McpHttp

            self.app = McpHttp()
        await self.app(scope, receive, send)

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.app is not None:
                    await self.app.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


class Router:
    """/mcp and /mcp/ to the MCP server, every other request to Django. The MCP server
    also takes the ASGI lifespan (Django's handler does not speak it), to start and stop
    its session manager with the process."""

    def __init__(self, mcp: Any, django: Any) -> None:
        self.mcp = mcp
        self.django = django

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan" or (
            scope["type"] == "http" and scope.get("path") in MCP_PATHS
        ):
            await self.mcp(scope, receive, send)
        else:
            await self.django(scope, receive, send)


application = BodyLimit(Router(LazyMcp(), django_app))
