"""tools.ai.onnx_session: checksum before load, providers read back, cached sessions."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, RuntimeException

from tests.tools.ai import tiny_models
from tools.ai import onnx_session
from tools.ai.onnx_session import CPU, CUDA, TENSORRT, cached, is_out_of_memory, load
from tools.ai.store import ModelStore
from tools.base import Context, ToolError

IMAGE = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
ORT_GPU_LISTING = [TENSORRT, CUDA, "AzureExecutionProvider", CPU]  # onnxruntime-gpu, no GPU


@pytest.fixture
def identity(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "identity.onnx"
    return path, tiny_models.identity(path)


@pytest.fixture
def sessions_started(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """Records the providers of every InferenceSession created (a slow one, to let
    concurrent callers overlap)."""
    started: list[list[Any]] = []
    real = ort.InferenceSession

    def counting(data: bytes, options: Any = None, providers: Any = None) -> Any:
        started.append(list(providers or []))
        time.sleep(0.2)
        return real(data, options, providers=providers)

    monkeypatch.setattr(onnx_session.ort, "InferenceSession", counting)
    return started


def _ctx(tmp_path: Path, device: str = "cpu") -> Context:
    return Context(scratch_dir=tmp_path / "scratch", device=device, models=ModelStore())


def test_loads_and_runs_on_the_cpu(identity: tuple[Path, str]) -> None:
    path, sha = identity
    session = load(path, model_id="test.identity", sha256=sha, device="cpu")
    assert (session.device, session.provider, session.fallback) == ("cpu", CPU, None)
    assert session.input_names == ["input"]
    [out] = session.run({"input": IMAGE})
    assert np.array_equal(out, IMAGE)
    assert session.describe() == {
        "engine": f"onnxruntime {ort.__version__} (CPUExecutionProvider)",
        "model": "test.identity",
        "modelSha256": sha,
        "device": "cpu",
    }


def test_a_tampered_file_is_refused_and_never_loaded(
    identity: tuple[Path, str], sessions_started: list[list[Any]]
) -> None:
    path, sha = identity
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ToolError) as err:
        load(path, model_id="test.identity", sha256=sha, device="cpu")
    assert (err.value.code, err.value.status) == ("MODEL_CHECKSUM_MISMATCH", 503)
    assert "test.identity" in err.value.message
    assert sessions_started == []


def test_a_missing_file_is_not_installed(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as err:
        load(tmp_path / "nope.onnx", model_id="test.nope", sha256="0" * 64, device="cpu")
    assert (err.value.code, err.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "test.nope" in err.value.message


def test_providers_keep_only_what_onnxruntime_offers(monkeypatch: pytest.MonkeyPatch) -> None:
    assert onnx_session.providers_for("cpu") == [CPU]
    assert onnx_session.providers_for("gpu") == [CPU]  # this machine: CPU build
    monkeypatch.setattr(onnx_session.ort, "get_available_providers", lambda: ORT_GPU_LISTING)
    assert onnx_session.providers_for("cpu") == [CPU]
    assert onnx_session.providers_for("gpu") == [CUDA, CPU]
    assert onnx_session.providers_for("gpu", tensorrt=True) == [TENSORRT, CUDA, CPU]
    with pytest.raises(ValueError):
        onnx_session.providers_for("tpu")


def test_gpu_request_on_a_cpu_build_records_the_fallback(identity: tuple[Path, str]) -> None:
    path, sha = identity
    session = load(path, model_id="test.identity", sha256=sha, device="gpu")
    assert (session.device, session.provider) == ("cpu", CPU)
    assert session.fallback and "no GPU provider" in session.fallback
    assert session.describe()["device"] == "cpu"
    with pytest.raises(ToolError) as err:
        load(path, model_id="test.identity", sha256=sha, device="gpu", gpu_required=True)
    assert (err.value.code, err.value.status) == ("GPU_UNAVAILABLE", 503)
    assert "test.identity" in err.value.message


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_a_listed_but_unusable_gpu_is_read_back_from_the_session(
    identity: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # onnxruntime-gpu on a machine without a GPU lists CUDA, then runs on the CPU.
    monkeypatch.setattr(onnx_session.ort, "get_available_providers", lambda: ORT_GPU_LISTING)
    path, sha = identity
    session = load(path, model_id="test.identity", sha256=sha, device="gpu", tensorrt=True)
    assert (session.device, session.provider) == ("cpu", CPU)
    assert session.fallback and "fell back to the CPU" in session.fallback


def test_a_gpu_provider_that_fails_to_start_falls_back_with_its_reason(
    identity: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(onnx_session.ort, "get_available_providers", lambda: [CUDA, CPU])
    real = ort.InferenceSession

    def cuda_broken(data: bytes, options: Any = None, providers: Any = None) -> Any:
        if any(p[0] == CUDA for p in providers if isinstance(p, tuple)):
            raise Fail("libcudnn.so.9: cannot open shared object file")
        return real(data, options, providers=providers)

    monkeypatch.setattr(onnx_session.ort, "InferenceSession", cuda_broken)
    path, sha = identity
    session = load(path, model_id="test.identity", sha256=sha, device="gpu")
    assert session.provider == CPU
    assert session.fallback and "libcudnn.so.9" in session.fallback


@pytest.mark.parametrize(
    "message",
    [
        "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while "
        "running Conv node. Name:'Conv_0' Status Message: /onnxruntime_src/onnxruntime/core/"
        "framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, "
        "bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate "
        "memory for requested buffer of size 285081600",
        "[ONNXRuntimeError] : 1 : FAIL : cuda_call.cc:114 onnxruntime::CudaCall CUDA failure 2: "
        "out of memory ; GPU=0 ; hostname=h ; file=cuda_stream_handle.cc ; line=175 ; "
        "expr=cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);",
        "CUBLAS failure 3: CUBLAS_STATUS_ALLOC_FAILED ; GPU=0 ; expr=cublasCreate(&h);",
        "CUDNN failure 2: CUDNN_STATUS_ALLOC_FAILED ; GPU=0",
        "[E:onnxruntime:Default, tensorrt_execution_provider.h:50 log] Cuda Error in allocate: "
        "2 (out of memory)",
    ],
)
def test_out_of_memory_errors_are_recognised(message: str) -> None:
    assert is_out_of_memory(RuntimeException(message))


def test_other_errors_are_not_out_of_memory() -> None:
    assert is_out_of_memory(MemoryError())
    wrapped = RuntimeError("tile failed")
    wrapped.__cause__ = RuntimeException("Failed to allocate memory for requested buffer")
    assert is_out_of_memory(wrapped)
    assert not is_out_of_memory(RuntimeException("Invalid input name: x"))
    assert not is_out_of_memory(ValueError("CUDA failure 700: illegal memory access"))


def test_cached_loads_once_for_concurrent_callers_and_idle_unload_drops_it(
    tmp_path: Path, identity: tuple[Path, str], sessions_started: list[list[Any]]
) -> None:
    path, sha = identity
    ctx = _ctx(tmp_path)
    barrier = threading.Barrier(2)
    got: list[onnx_session.Session] = []

    def call() -> None:
        barrier.wait()
        got.append(cached(ctx, path, model_id="test.identity", sha256=sha))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sessions_started) == 1 and got[0] is got[1]
    later = time.monotonic() + ctx.models.idle_s + 1
    assert ctx.models.unload_idle(now=later) == [("test.identity", "cpu")]
    assert cached(ctx, path, model_id="test.identity", sha256=sha) is not got[0]
    assert len(sessions_started) == 2


def test_cached_reloads_a_reinstalled_model(
    tmp_path: Path, sessions_started: list[list[Any]]
) -> None:
    path, ctx = tmp_path / "plus.onnx", _ctx(tmp_path)
    first = tiny_models.add_constant(path, 1.0)
    [out] = cached(ctx, path, model_id="test.plus", sha256=first).run({"input": IMAGE})
    assert np.array_equal(out, IMAGE + 1)
    second = tiny_models.add_constant(path, 2.0)  # a new version, with a new pinned hash
    [out] = cached(ctx, path, model_id="test.plus", sha256=second).run({"input": IMAGE})
    assert np.array_equal(out, IMAGE + 2)
    assert len(sessions_started) == 2
    [out] = cached(ctx, path, model_id="test.plus", sha256=second).run({"input": IMAGE})
    assert np.array_equal(out, IMAGE + 2) and len(sessions_started) == 2


def test_cached_fallback_session_is_refused_to_a_caller_that_requires_the_gpu(
    tmp_path: Path, identity: tuple[Path, str]
) -> None:
    path, sha = identity
    ctx = _ctx(tmp_path, device="gpu")
    assert cached(ctx, path, model_id="test.identity", sha256=sha).fallback
    with pytest.raises(ToolError) as err:
        cached(ctx, path, model_id="test.identity", sha256=sha, gpu_required=True)
    assert err.value.code == "GPU_UNAVAILABLE"
