"""ASGI entry point: /mcp goes to the MCP server (apps.mcpserver.http), everything else to
Django; both behind BodyLimit, so oversized uploads are refused before they are read."""

import json
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_app = get_asgi_application()

from django.conf import settings  # noqa: E402  (after Django is set up)

from apps.mcpserver.http import PATHS as MCP_PATHS  # noqa: E402
from apps.mcpserver.http import McpHttp  # noqa: E402

Scope = dict[str, Any]


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


application = BodyLimit(Router(McpHttp(), django_app))
