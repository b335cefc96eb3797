"""A Python client generated from our OpenAPI spec by openapi-python-client: every module
imports, and it signs in, resizes, runs a batch and an async job against a live server.

The generator's configuration (tests/live/openapi_client.yaml) only tells it that image,
ZIP and PDF results are files. The spec is the one the server serves.
"""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import pyvips

from tests.badfiles import FIXTURES
from tests.live.stack import WAIT_S, Stack, running_stack, wait_until

pytestmark = pytest.mark.live

PACKAGE = "pixelsmith_client"
CONFIG = Path(__file__).parent / "openapi_client.yaml"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("client-live")) as stack:
        stack.login()  # the first sign-in chooses the password
        yield stack


@pytest.fixture(scope="module")
def client_package(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The client generated from the served spec, importable as `pixelsmith_client`."""
    folder = tmp_path_factory.mktemp("generated")
    spec = folder / "openapi.yaml"
    spec.write_bytes(httpx.get(f"{stack.base}/api/v1/openapi.yaml", timeout=WAIT_S).content)
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(generator), "generate", "--path", str(spec), "--meta", "none",
         "--output-path", str(folder / PACKAGE), "--config", str(CONFIG)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # The generator warns about every part of the spec it had to skip: there must be none.
    assert "Unable to parse" not in done.stdout and "Cannot parse" not in done.stdout, done.stdout
    sys.path.insert(0, str(folder))
    yield folder / PACKAGE
    sys.path.remove(str(folder))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="module")
def client(client_package: Path, stack: Stack) -> Any:
    """An AuthenticatedClient holding a token from the generated login call."""
    login = load("api.auth.auth_login_create")
    models = load("models")
    plain = load("client").Client(base_url=stack.base, timeout=httpx.Timeout(WAIT_S))
    body = models.Login(username="admin", password=stack.password)
    answer = login.sync(client=plain, body=body)
    token = answer.token  # LoginAnswer is typed (apps/toolsapi/openapi_answers.py)
    return load("client").AuthenticatedClient(
        base_url=stack.base, token=token, timeout=httpx.Timeout(WAIT_S)
    )


def photo_file() -> Any:
    data = (FIXTURES / "photo.jpg").read_bytes()
    return load("types").File(payload=io.BytesIO(data), file_name="p.jpg", mime_type="image/jpeg")


def test_every_generated_module_imports(client_package: Path) -> None:
    names = [m.name for m in pkgutil.walk_packages([str(client_package)], prefix=f"{PACKAGE}.")]
    failed = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # every failure, not just the first
            failed[name] = repr(exc)
    assert len(names) > 100 and not failed, failed


def test_the_generated_client_resizes_a_photo(client: Any) -> None:
    resize = load("api.tools_essentials.tool_resize")
    body = load("models").ToolResizeBody(file=photo_file(), settings=json.dumps({"width": 32}))

    result = resize.sync_detailed(client=client, body=body)

    assert result.status_code == 200, result.content[:300]
    image = pyvips.Image.new_from_buffer(result.parsed.payload.read(), "")
    assert image.width == 32


def test_the_generated_client_runs_a_batch(client: Any) -> None:
    batch = load("api.tools_essentials.tool_resize_batch")
    body = load("models").ToolResizeBatchBody(
        files=[photo_file(), photo_file()], settings=json.dumps({"width": 24})
    )

    result = batch.sync_detailed(client=client, body=body)

    assert result.status_code == 200, result.content[:300]
    with zipfile.ZipFile(result.parsed.payload) as archive:
        images = [n for n in archive.namelist() if n != "manifest.json"]
        assert len(images) == 2
        assert pyvips.Image.new_from_buffer(archive.read(images[0]), "").width == 24


def test_the_generated_client_follows_an_async_job(client: Any) -> None:
    resize = load("api.tools_essentials.tool_resize")
    jobs_get = load("api.jobs.jobs_get")
    jobs_download = load("api.jobs.jobs_download")
    models = load("models")
    body = models.ToolResizeBody(file=photo_file(), settings=json.dumps({"width": 40}))

    accepted = resize.sync(client=client, body=body, prefer=models.ToolResizePrefer.RESPOND_ASYNC)
    assert isinstance(accepted, models.JobAccepted), accepted

    def finished() -> Any:
        job = jobs_get.sync_detailed(client=client, job_id=accepted.job_id)
        state = json.loads(job.content)["status"]
        return state if state in ("completed", "failed") else None

    assert wait_until(finished, "the async job to finish") == "completed"
    download = jobs_download.sync_detailed(client=client, job_id=accepted.job_id)
    assert download.status_code == 200
    assert pyvips.Image.new_from_buffer(download.content, "").width == 40
