"""config.asgi.LazyMcp: the MCP server is loaded by the first /mcp request, not at start,
and the ASGI lifespan still stops it with the process (issue 14)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from apps.mcpserver.http import McpHttp
from config.asgi import BodyLimit, LazyMcp, Router, django_app
from tests.aio import run_async

pytestmark = pytest.mark.django_db(transaction=True)  # the app reads the DB from threads

BASE = "http://pixelsmith.test"
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}


class Lifespan:
    """The ASGI lifespan of `app`, driven as a server drives it."""

    def __init__(self, app: Any) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task = asyncio.create_task(app({"type": "lifespan"}, self.inbox.get, self.outbox.put))

    async def say(self, message_type: str) -> str:
        await self.inbox.put({"type": message_type})
        answer = await asyncio.wait_for(self.outbox.get(), timeout=10)
        return str(answer["type"])


def run_with(
    lazy: LazyMcp, during: Callable[[httpx.AsyncClient], Awaitable[Any]]
) -> tuple[list[str], Any]:
    """Start the lifespan, run `during` with a client of the whole stack, shut down;
    returns the lifespan's answers and what `during` returned."""

    async def go() -> tuple[list[str], Any]:
        stack: Any = BodyLimit(Router(lazy, django_app))
        lifespan = Lifespan(stack)
        answers = [await lifespan.say("lifespan.startup")]
        transport = httpx.ASGITransport(app=stack)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            result = await during(client)
        answers.append(await lifespan.say("lifespan.shutdown"))
        await asyncio.wait_for(lifespan.task, timeout=10)
        return answers, result

    return run_async(go())


def test_startup_and_shutdown_complete_without_loading_the_mcp_server() -> None:
    lazy = LazyMcp()

    async def django_only(client: httpx.AsyncClient) -> int:
        assert lazy.app is None  # started, and still not loaded
        return (await client.get("/api/v1/health")).status_code

    answers, status = run_with(lazy, django_only)

    assert answers == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert status == 200
    assert lazy.app is None  # a request to Django does not load it either


def test_the_first_mcp_request_loads_it_and_shutdown_stops_it() -> None:
    lazy = LazyMcp()

    async def unauthenticated(client: httpx.AsyncClient) -> httpx.Response:
        assert lazy.app is None
        return await client.post("/mcp", content=json.dumps(LIST), headers=HEADERS)

    answers, response = run_with(lazy, unauthenticated)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "AUTH_REQUIRED"
    assert isinstance(lazy.app, McpHttp)
    assert answers == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert lazy.app.stopping.is_set()


def test_shutdown_ends_a_session_manager_that_a_request_started(user, api_key_for) -> None:
    lazy = LazyMcp()
    headers = {**HEADERS, "authorization": f"Bearer {api_key_for(user)}"}

    async def listed(client: httpx.AsyncClient) -> tuple[httpx.Response, bool]:
        response = await client.post("/mcp", content=json.dumps(LIST), headers=headers)
        runner = lazy.app.runner
        return response, runner is not None and not runner.done()

    answers, (response, running) = run_with(lazy, listed)

    assert response.status_code == 200, response.text[:300]
    assert "resize" in response.text
    assert running  # the request started the session manager, and it ran on
    assert answers[-1] == "lifespan.shutdown.complete"
    assert lazy.app.stopping.is_set() and lazy.app.runner.done()
    assert lazy.app.failure is None
