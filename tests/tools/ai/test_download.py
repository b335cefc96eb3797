"""tools.ai.download against a real HTTPS server: verified, resumable, https from allowed
hosts only, and never a half-written model file."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.https_server import serve
from tools.ai import install
from tools.ai.catalog import ModelFile, ModelSpec, Source
from tools.ai.download import Downloader, host_allowed
from tools.base import Cancelled, ToolError

MODEL = bytes(range(256)) * 4096  # 1 MiB
SHA = hashlib.sha256(MODEL).hexdigest()


def spec_at(url: str, sha256: str = SHA, size: int = len(MODEL)) -> ModelSpec:
    return ModelSpec(
        id="remote.v1",
        name="Remote",
        description="a downloaded test model",
        task="segment",
        engine="onnxruntime",
        licence="MIT",
        source=Source(kind="download"),
        files=(ModelFile("remote.onnx", sha256, size, url=url),),
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    routes = {
        "/model.onnx": MODEL,
        "/other.onnx": b"x" * len(MODEL),
        "/away": ("redirect", "https://downloads.example.org/model.onnx"),
        "/drop": ("drop", MODEL[: len(MODEL) // 2]),
        "/longer": MODEL + b"extra",
    }
    with serve(tmp_path, routes) as running:
        yield running


def downloader(tmp_path: Path, ca: Path, **kw: Any) -> Downloader:
    return Downloader(tmp_path / "models", hosts=["127.0.0.1"], ca_file=str(ca), **kw)


def test_a_model_is_downloaded_verified_and_installed(server, tmp_path: Path):
    running, ca = server
    seen: list[tuple[int, int]] = []
    target = downloader(tmp_path, ca, progress=lambda done, total, name: seen.append((done, total)))
    spec = spec_at(running.url + "/model.onnx")

    assert target.download(spec) == ["remote.onnx"]

    assert install.status(target.root, spec) == "installed"
    assert sorted(p.name for p in (target.root / "remote.v1").iterdir()) == ["remote.onnx"]
    assert seen[-1] == (len(MODEL), len(MODEL))  # byte progress, ending at the whole size
    assert len(seen) > 2 and all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


def test_an_installed_model_is_not_downloaded_again(server, tmp_path: Path):
    running, ca = server
    target = downloader(tmp_path, ca)
    spec = spec_at(running.url + "/model.onnx")
    target.download(spec)

    assert target.download(spec) == []
    assert len(running.ranges) == 1


def test_a_wrong_checksum_deletes_the_file_and_fails(server, tmp_path: Path):
    running, ca = server
    target = downloader(tmp_path, ca)

    with pytest.raises(ToolError) as caught:
        target.download(spec_at(running.url + "/other.onnx"))

    assert caught.value.code == "MODEL_CHECKSUM_MISMATCH"
    assert list((target.root / "remote.v1").iterdir()) == []


def test_a_dropped_connection_fails_clearly_and_the_next_try_resumes(server, tmp_path: Path):
    running, ca = server
    target = downloader(tmp_path, ca)
    spec = spec_at(running.url + "/drop")

    with pytest.raises(ToolError) as caught:
        target.download(spec)

    assert caught.value.code == "MODEL_DOWNLOAD_FAILED"
    assert "resume" in caught.value.message
    assert install.status(target.root, spec) == "missing"  # no model file, only the part
    part = target.root / "remote.v1" / ".remote.onnx.part"
    assert part.stat().st_size == len(MODEL) // 2

    running.routes["/drop"] = MODEL  # the server is back
    target.download(spec)

    assert running.ranges[-1] == f"bytes={len(MODEL) // 2}-"
    assert install.status(target.root, spec) == "installed"
    assert not part.exists()


def test_a_server_that_ignores_range_sends_it_all_and_it_is_taken_whole(server, tmp_path: Path):
    running, ca = server
    running.routes["/whole"] = ("full", MODEL)
    target = downloader(tmp_path, ca)
    folder = target.root / "remote.v1"
    folder.mkdir(parents=True)
    (folder / ".remote.onnx.part").write_bytes(MODEL[:1000])
    spec = spec_at(running.url + "/whole")

    target.download(spec)

    assert running.ranges == ["bytes=1000-"]
    assert install.status(target.root, spec) == "installed"


def test_a_stale_part_fails_the_checksum_once_then_downloads_whole(server, tmp_path: Path):
    running, ca = server
    target = downloader(tmp_path, ca)
    folder = target.root / "remote.v1"
    folder.mkdir(parents=True)
    (folder / ".remote.onnx.part").write_bytes(b"stale bytes of another file")
    spec = spec_at(running.url + "/model.onnx")

    with pytest.raises(ToolError) as caught:
        target.download(spec)
    assert caught.value.code == "MODEL_CHECKSUM_MISMATCH"
    assert list(folder.iterdir()) == []

    target.download(spec)
    assert install.status(target.root, spec) == "installed"


def test_more_bytes_than_the_catalog_size_are_cut_off(server, tmp_path: Path):
    running, ca = server
    target = downloader(tmp_path, ca)
    spec = spec_at(running.url + "/longer")

    with pytest.raises(ToolError) as caught:
        target.download(spec)

    assert caught.value.code == "MODEL_DOWNLOAD_FAILED"
    assert "more than" in caught.value.message
    assert install.status(target.root, spec) == "missing"


def test_a_redirect_to_a_host_not_allowed_is_refused(server, tmp_path: Path):
    running, ca = server
    target = downloader(tmp_path, ca)

    with pytest.raises(ToolError) as caught:
        target.download(spec_at(running.url + "/away"))

    assert caught.value.code == "MODEL_DOWNLOAD_FAILED"
    assert "downloads.example.org" in caught.value.message


def test_a_host_not_allowed_is_refused_before_any_request(server, tmp_path: Path):
    running, ca = server
    target = Downloader(tmp_path / "models", hosts=["huggingface.co"], ca_file=str(ca))

    with pytest.raises(ToolError) as caught:
        target.download(spec_at(running.url + "/model.onnx"))

    assert caught.value.code == "MODEL_DOWNLOAD_FAILED"
    assert running.ranges == []


def test_an_untrusted_certificate_fails_the_download(server, tmp_path: Path):
    running, _ca = server
    target = Downloader(tmp_path / "models", hosts=["127.0.0.1"])  # the system's CAs

    with pytest.raises(ToolError) as caught:
        target.download(spec_at(running.url + "/model.onnx"))

    assert caught.value.code == "MODEL_DOWNLOAD_FAILED"
    assert "CERTIFICATE" in caught.value.message.upper()


def test_nothing_listening_is_a_clear_failure(tmp_path: Path):
    target = Downloader(tmp_path / "models", hosts=["127.0.0.1"])

    with pytest.raises(ToolError) as caught:
        target.download(spec_at("https://127.0.0.1:9/model.onnx"))

    assert caught.value.code == "MODEL_DOWNLOAD_FAILED"
    assert "remote.v1/remote.onnx" in caught.value.message


def test_a_cancel_stops_the_download_and_keeps_the_part_for_later(server, tmp_path: Path):
    running, ca = server
    target = downloader(tmp_path, ca, is_cancelled=lambda: True)
    spec = spec_at(running.url + "/model.onnx")

    with pytest.raises(Cancelled):
        target.download(spec)

    assert install.status(target.root, spec) == "missing"
    assert (target.root / "remote.v1" / ".remote.onnx.part").exists()


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://huggingface.co/x/y.onnx", True),
        ("https://cdn-lfs.huggingface.co/x", True),
        ("https://huggingface.co.evil.org/x", False),
        ("https://evilhuggingface.co/x", False),
        ("http://huggingface.co/x", False),
        ("ftp://huggingface.co/x", False),
        ("file:///etc/passwd", False),
        ("https://github.com/o/r/releases/download/v1/m.onnx", True),
    ],
)
def test_only_https_from_the_allowed_hosts(url: str, allowed: bool):
    hosts = ["huggingface.co", "*.huggingface.co", "github.com"]
    assert host_allowed(url, hosts) is allowed


def test_a_shipped_model_is_not_downloaded(tmp_path: Path):
    spec = spec_at("https://127.0.0.1/x")
    shipped = ModelSpec(**{**spec.__dict__, "source": Source(kind="package", package="p==1")})

    with pytest.raises(ToolError) as caught:
        Downloader(tmp_path).download(shipped)

    assert caught.value.code == "MODEL_NOT_DOWNLOADABLE"
