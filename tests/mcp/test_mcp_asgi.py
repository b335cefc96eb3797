"""/mcp in-process, through config.asgi's own stack (BodyLimit, the router, the MCP app)
and the SDK's client: the checks before the MCP server sees a request (credential, Host,
rate limit, body size), and a session manager started on the first request where no
ASGI lifespan runs. The live tests (test_mcp_live.py) cover uvicorn, its lifespan and
the worker."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import httpx2
import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from apps.library.models import StoredFile
from apps.library.services import store_upload
from apps.mcpserver.answers import INLINE_MAX_BYTES
from apps.mcpserver.http import McpHttp
from config.asgi import BodyLimit, Router, django_app
from tests.aio import run_async
from tests.api.library_support import noise_png
from tests.badfiles import FIXTURES

pytestmark = pytest.mark.django_db(transaction=True)  # the app reads the DB from threads

BASE = "http://pixelsmith.test"


def app() -> Any:
    """A fresh stack per test: the MCP app's task group belongs to one event loop."""
    return BodyLimit(Router(McpHttp(), django_app))


def post(asgi: Any, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.post(
                "/mcp",
                content=body if isinstance(body, bytes) else json.dumps(body),
                headers={
                    "content-type": "application/json",
                    "accept": "application/json, text/event-stream",
                    **(headers or {}),
                },
            )

    return run_async(go())


LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


def assert_json_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) - {"retryAfter"} == {"error", "code"} and body["code"] == code
    return body


def test_without_a_key_it_is_401_json_with_www_authenticate() -> None:
    response = post(app(), LIST)
    assert_json_error(response, 401, "AUTH_REQUIRED")
    assert response.headers["www-authenticate"] == 'Bearer realm="pixelsmith"'


def test_a_wrong_key_is_401(user) -> None:
    response = post(app(), LIST, {"authorization": "Bearer si_not-a-key"})
    assert_json_error(response, 401, "AUTH_INVALID")


def test_a_deactivated_users_key_is_refused(user, api_key_for) -> None:
    key = api_key_for(user)
    user.is_active = False
    user.save()
    assert_json_error(post(app(), LIST, {"authorization": f"Bearer {key}"}), 401, "AUTH_INVALID")


def test_a_host_outside_allowed_hosts_is_refused(user, api_key_for, settings) -> None:
    settings.ALLOWED_HOSTS = ["pixelsmith.example"]
    response = post(app(), LIST, {"authorization": f"Bearer {api_key_for(user)}"})
    assert_json_error(response, 400, "DISALLOWED_HOST")


def test_the_api_rate_limit_counts_mcp_requests(user, api_key_for, settings) -> None:
    settings.RATE_LIMIT_PER_MIN = 1
    headers = {"authorization": f"Bearer {api_key_for(user)}"}
    asgi = app()
    assert post(asgi, LIST, headers).status_code == 200
    response = post(asgi, LIST, headers)
    assert_json_error(response, 429, "RATE_LIMITED")
    assert int(response.headers["retry-after"]) >= 1


def test_a_body_over_the_upload_limit_is_413_before_mcp_reads_it(user, api_key_for, settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    headers = {"authorization": f"Bearer {api_key_for(user)}"}
    response = post(app(), b"x" * (1024 * 1024 + 1), headers)
    assert_json_error(response, 413, "FILE_TOO_LARGE")


def test_other_paths_still_reach_django() -> None:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app())
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return await client.get("/api/v1/health")

    assert run_async(go()).status_code == 200


def test_the_sdk_client_runs_resize_on_base64_as_the_keys_owner(user, api_key_for) -> None:
    image = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(0, 0, 64, 48)
    data = base64.b64encode(image.pngsave_buffer()).decode()
    asgi = app()
    headers = {"Authorization": f"Bearer {api_key_for(user)}"}

    async def go() -> Any:
        transport = httpx2.ASGITransport(app=asgi)
        async with (
            httpx2.AsyncClient(transport=transport, headers=headers) as http,
            Client(streamable_http_client(f"{BASE}/mcp/", http_client=http)) as mcp,
        ):
            names = {t.name for t in (await mcp.list_tools()).tools}
            arguments = {"tool_id": "resize", "settings": {"width": 16}, "image_base64": data}
            return names, await mcp.call_tool("run_tool", arguments)

    names, result = run_async(go())

    assert {"run_tool", "wait_for_job", "list_files", "gpu_status"} <= names
    assert not result.is_error, result.content
    stored = StoredFile.objects.get()
    assert stored.owner == user and stored.width == 16
    assert result.structured_content["file"]["downloadUrl"] == (
        f"{BASE}/api/v1/files/{stored.pk}/download?version=2"
    )
    assert [c.type for c in result.content] == ["text", "image"]


def test_errors_are_tool_errors_with_our_code(user, other_user, api_key_for) -> None:
    theirs = StoredFile.objects.create(owner=other_user, name="theirs.png")
    headers = {"Authorization": f"Bearer {api_key_for(user)}"}
    asgi = app()

    async def go() -> list[Any]:
        transport = httpx2.ASGITransport(app=asgi)
        async with (
            httpx2.AsyncClient(transport=transport, headers=headers) as http,
            Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as mcp,
        ):
            calls = [
                (
                    "run_tool",
                    {"tool_id": "resize", "settings": {"width": 8}, "file_id": str(theirs.pk)},
                ),
                ("get_file", {"file_id": str(theirs.pk)}),
                (
                    "run_tool",
                    {"tool_id": "resize", "settings": {"width": -1}, "image_base64": "AAAA"},
                ),
                ("get_job", {"job_id": "not-a-job"}),
            ]
            return [await mcp.call_tool(name, arguments) for name, arguments in calls]

    results = run_async(go())

    codes = [r.structured_content["code"] for r in results]
    assert codes == ["NOT_FOUND", "NOT_FOUND", "INVALID_SETTINGS", "NOT_FOUND"]
    assert all(r.is_error for r in results)
    assert json.loads(results[2].content[0].text)["error"].startswith("width:")


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # legacy: the answer is always SSE
def test_the_largest_inline_image_fits_the_sdk_clients_event_limit(
    user, api_key_for, mode: str
) -> None:
    """The SDK's client refuses SSE events over 1 MiB (a 1 MB cap failed this way): an
    image just under the inline cap (as base64, beside its JSON) still has to arrive."""
    data = noise_png(420, 420)
    assert INLINE_MAX_BYTES - 50_000 < len(data) <= INLINE_MAX_BYTES
    stored = store_upload(user, SimpleUploadedFile("noise.png", data))
    headers = {"Authorization": f"Bearer {api_key_for(user)}"}
    asgi = app()

    async def go() -> Any:
        transport = httpx2.ASGITransport(app=asgi)
        async with (
            httpx2.AsyncClient(transport=transport, headers=headers) as http,
            Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode=mode) as mcp,
        ):
            arguments = {"file_id": str(stored.pk), "include_image": True}
            return await mcp.call_tool("get_file", arguments)

    result = run_async(go())

    assert not result.is_error, result.content
    image = next(c for c in result.content if c.type == "image")
    assert base64.b64decode(image.data) == data and image.mime_type == "image/png"


def test_with_auth_disabled_no_key_is_needed(settings) -> None:
    settings.AUTH_ENABLED = False
    response = post(app(), LIST)
    assert response.status_code == 200, response.text
    assert '"name":"run_tool"' in response.text
