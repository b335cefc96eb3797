"""The MCP server as assistants use it, with the `mcp` SDK's own client:

- streamable HTTP at /mcp of a real stack (scripts/serve.sh: uvicorn with two workers, so
  requests land on either, and a django-q2 worker), authenticated by an API key made
  through the REST API: tools listed, resize run on a library file uploaded over REST,
  the result downloaded, and progress notifications received while a queued job runs;
- stdio: `manage.py mcp` spawned by the SDK's stdio client on a fresh migrated SQLite.
"""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.aio import run_async
from tests.badfiles import FIXTURES
from tests.live.stack import ROOT, WAIT_S, Stack, running_stack, server_env

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("mcp-live"), WEB_WORKERS="2") as stack:
        yield stack


@pytest.fixture(scope="module")
def api_key(stack: Stack) -> str:
    """An API key of the first admin, created as a user would: through the REST API."""
    response = httpx.post(
        f"{stack.base}/api/v1/api-keys", json={"name": "mcp"}, headers=stack.login(), timeout=WAIT_S
    )
    assert response.status_code == 201, response.text
    return response.json()["key"]


def upload(stack: Stack, key: str, image: pyvips.Image, name: str) -> str:
    response = httpx.post(
        f"{stack.base}/api/v1/upload",
        files={"files": (name, image.jpegsave_buffer(Q=90), "image/jpeg")},
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT_S,
    )
    assert response.status_code == 201, response.text
    return response.json()["files"][0]["id"]


def mcp_client(stack: Stack, http: Any) -> Client:
    return Client(streamable_http_client(f"{stack.base}/mcp", http_client=http))


def test_http_lists_tools_and_resizes_a_library_file(stack: Stack, api_key: str) -> None:
    photo = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg"))  # 600x400
    file_id = upload(stack, api_key, photo, "photo.jpg")

    async def go() -> tuple[Any, Any]:
        async with (
            create_mcp_http_client(headers={"Authorization": f"Bearer {api_key}"}) as http,
            mcp_client(stack, http) as mcp,
        ):
            tools = await mcp.list_tools()
            arguments = {"tool_id": "resize", "settings": {"width": 150}, "file_id": file_id}
            return tools, await mcp.call_tool("run_tool", arguments)

    tools, result = run_async(go())

    assert {t.name for t in tools.tools} >= {"list_tools", "run_tool", "wait_for_job"}
    assert not result.is_error, result.content
    saved = result.structured_content["file"]
    assert saved["id"] == file_id and saved["version"] == 2
    assert saved["downloadUrl"].startswith(stack.base)
    download = httpx.get(
        saved["downloadUrl"], headers={"Authorization": f"Bearer {api_key}"}, timeout=WAIT_S
    )
    assert download.status_code == 200 and download.headers["X-Version"] == "2"
    image = pyvips.Image.new_from_buffer(download.content, "")
    assert (image.width, image.height) == (150, 100)
    inline = next(c for c in result.content if c.type == "image")
    assert pyvips.Image.new_from_buffer(base64.b64decode(inline.data), "").width == 150


def test_wait_for_job_sends_the_jobs_real_progress(stack: Stack, api_key: str) -> None:
    """Seam carving 1200x800 to half (600 + 400 seams, 32 energy passes) runs ~4 s on the
    worker and writes its percent twice a second: several notifications in between."""
    photo = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).resize(2)
    file_id = upload(stack, api_key, photo, "big.jpg")
    progress: list[tuple[float, float | None, str | None]] = []

    async def record(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def go() -> tuple[Any, Any]:
        async with (
            create_mcp_http_client(headers={"Authorization": f"Bearer {api_key}"}) as http,
            mcp_client(stack, http) as mcp,
        ):
            settings = {"width": 600, "height": 400}
            arguments = {"tool_id": "content-aware-resize", "settings": settings}
            queued = await mcp.call_tool(
                "run_tool", {**arguments, "file_id": file_id, "wait": False}
            )
            job_id = queued.structured_content["jobId"]
            done = await mcp.call_tool("wait_for_job", {"job_id": job_id}, progress_callback=record)
            return queued, done

    started = time.monotonic()
    queued, done = run_async(go())

    assert queued.structured_content["status"] in {"queued", "processing"}
    assert not done.is_error, done.content
    assert done.structured_content["status"] == "completed"
    assert done.structured_content["file"]["id"] == file_id
    between = [p for p in progress if 0 < p[0] < 100]
    assert between, (
        f"no progress between 0 and 100 in {progress} ({time.monotonic() - started:.1f} s)"
    )
    assert any("seams" in (message or "") for _, _, message in between)
    values = [value for value, _, _ in progress]
    assert values == sorted(set(values)) and progress[-1][0] == 100  # MCP: always increasing
    assert all(total == 100 for _, total, _ in progress)


def test_http_without_a_key_is_401(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.base}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": "application/json, text/event-stream"},
        timeout=WAIT_S,
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "Send an API key: Authorization: Bearer si_…",
        "code": "AUTH_REQUIRED",
    }
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="pixelsmith"'


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite install (admin/admin) with no server running: stdio needs none."""
    data_dir = tmp_path_factory.mktemp("mcp-stdio")
    env = server_env(data_dir, 0)
    for command in (["migrate", "--noinput"], ["ensure_admin"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=WAIT_S,
        )
    return env


def test_stdio_lists_tools_and_resizes_base64(fresh_install: dict[str, str]) -> None:
    crop = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(100, 100, 64, 48)
    data = base64.b64encode(crop.pngsave_buffer()).decode()
    command = [str(ROOT / "manage.py"), "mcp", "--user", "admin"]
    params = StdioServerParameters(
        command=sys.executable, args=command, env=fresh_install, cwd=ROOT
    )

    async def go() -> tuple[Any, Any]:
        async with Client(params) as mcp:
            tools = await mcp.list_tools()
            arguments = {"tool_id": "resize", "settings": {"width": 32}, "image_base64": data}
            return tools, await mcp.call_tool("run_tool", arguments)

    tools, result = run_async(go())

    assert "run_pipeline" in {t.name for t in tools.tools}
    assert not result.is_error, result.content
    saved = result.structured_content["file"]
    assert saved["downloadUrl"] == f"/api/v1/files/{saved['id']}/download?version=2"
    database = Path(fresh_install["DATA_DIR"]) / "pixelsmith.sqlite3"
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT f.width, f.latest_version, u.username FROM library_storedfile f "
            "JOIN accounts_user u ON u.id = f.owner_id WHERE f.id = ?",
            (saved["id"].replace("-", ""),),
        ).fetchone()
    assert row == (32, 2, "admin")


def test_stdio_refuses_to_start_with_a_wrong_key(fresh_install: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "mcp"],
        cwd=ROOT,
        env={**fresh_install, "PIXELSMITH_API_KEY": "si_wrong"},
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert "AUTH_INVALID" in done.stderr
