"""Loading and running ONNX models with onnxruntime, honestly.

Three things matter beyond `InferenceSession(path)`:

- Integrity: a model file is hashed before it is loaded, and what is loaded is the very
  bytes that were hashed (no window for the file to change in between). A wrong hash is
  refused (MODEL_CHECKSUM_MISMATCH), a missing file is MODEL_NOT_INSTALLED.
- Where it really runs: onnxruntime-gpu *lists* CUDA (and TensorRT) as available even on a
  machine where no GPU works, and then quietly runs on the CPU. So the provider in use is
  read back from the session; a "gpu" request that ends on the CPU says why in
  `Session.fallback`, or fails with GPU_UNAVAILABLE when the caller requires the GPU.
- Reuse: loading costs seconds, so sessions live in the process's ModelStore, keyed
  (model id, device) — see `cached`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.ai import install
from tools.ai.catalog import ModelFile, ModelSpec
from tools.base import Context, ToolError

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime as ort


def _ort() -> Any:
    """onnxruntime, imported when first needed: importing it costs a process about 30 MiB
    (with numpy), and the web process and a worker that runs no AI job need neither."""
    import onnxruntime

    return onnxruntime


def __getattr__(name: str) -> Any:
    """`onnx_session.ort`, for callers outside (and tests that patch onnxruntime)."""
    if name == "ort":
        return _ort()
    raise AttributeError(name)


CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
GPU_PROVIDERS = (TENSORRT, CUDA)

# Grow the CUDA arena by what is asked for, not the next power of two: after an
# out-of-memory the tiler retries with smaller tiles, which only helps if the arena has
# not already grabbed (and kept) the memory for the bigger ones.
_PROVIDER_OPTIONS: dict[str, dict[str, str]] = {CUDA: {"arena_extend_strategy": "kSameAsRequested"}}

# What onnxruntime, CUDA, cuDNN, cuBLAS and TensorRT say when an allocation fails
# (seen in onnxruntime issues #16307, #22702, #10770 and in its cuda_call.cc messages).
_OOM_MARKERS = (
    "failed to allocate memory",  # BFCArena::AllocateRawInternal, CPU or CUDA arena
    "out of memory",  # "CUDA failure 2: out of memory", TensorRT "(out of memory)"
    "cuda failure 2:",  # cudaErrorMemoryAllocation
    "cudaerrormemoryallocation",
    "cudnn_status_alloc_failed",
    "cublas_status_alloc_failed",
    "bad_alloc",  # std::bad_alloc from a CPU kernel
)


def providers_for(device: str, tensorrt: bool = False) -> list[str]:
    """The execution providers to ask for, best first, among those onnxruntime offers."""
    if device == "cpu":
        wanted = [CPU]
    elif device == "gpu":
        wanted = [TENSORRT, CUDA, CPU] if tensorrt else [CUDA, CPU]
    else:
        raise ValueError(f"device must be 'cpu' or 'gpu', not {device!r}")
    available = set(_ort().get_available_providers())
    return [name for name in wanted if name in available]


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an error (or one it was raised from) is a failed memory allocation."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError):
            return True
        text = str(seen).lower()
        if any(marker in text for marker in _OOM_MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass
class Session:
    """A loaded model and where it really runs."""

    model_id: str
    sha256: str
    device: str  # where it runs: "gpu" or "cpu"
    provider: str  # e.g. "CUDAExecutionProvider"
    fallback: str | None  # why a "gpu" request runs on the CPU; None if it does not
    inference: ort.InferenceSession = field(repr=False)

    @property
    def input_names(self) -> list[str]:
        return [node.name for node in self.inference.get_inputs()]

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """All outputs of one run (onnxruntime sessions are safe to run from threads)."""
        return list(self.inference.run(None, feeds))

    def describe(self) -> dict[str, Any]:
        """What produced a result, for the tool's output."""
        return {
            "engine": f"onnxruntime {_ort().__version__} ({self.provider})",
            "model": self.model_id,
            "modelSha256": self.sha256,
            "device": self.device,
        }


def verified_bytes(path: Path, *, model_id: str, sha256: str) -> bytes:
    """The file's contents, if its sha256 is the expected one."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ToolError(
            "MODEL_NOT_INSTALLED", f"Model {model_id} is not installed ({path.name})", 503
        ) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256.lower():
        raise ToolError(
            "MODEL_CHECKSUM_MISMATCH",
            f"Model {model_id} failed its checksum (expected {sha256}, file has {actual}): "
            "reinstall it",
            503,
        )
    return data


def load(
    path: Path,
    *,
    model_id: str,
    sha256: str,
    device: str,
    gpu_required: bool = False,
    tensorrt: bool = False,
    threads: int = 0,
) -> Session:
    """Verify and load a model; `threads` 0 lets onnxruntime choose."""
    data = verified_bytes(path, model_id=model_id, sha256=sha256)
    options = _ort().SessionOptions()
    options.intra_op_num_threads = threads
    inference, failure = _start(data, options, providers_for(device, tensorrt))
    provider = inference.get_providers()[0]
    fallback = _fallback_reason(device, provider, failure)
    if fallback and gpu_required:
        raise ToolError("GPU_UNAVAILABLE", f"Model {model_id} needs a GPU: {fallback}", 503)
    used = "gpu" if provider in GPU_PROVIDERS else "cpu"
    return Session(model_id, sha256.lower(), used, provider, fallback, inference)


def _start(
    data: bytes, options: ort.SessionOptions, providers: Sequence[str]
) -> tuple[ort.InferenceSession, str | None]:
    """A session on `providers`; if a GPU provider fails to start, one on the CPU and why."""
    with_options = [(name, _PROVIDER_OPTIONS.get(name, {})) for name in providers]
    try:
        return _ort().InferenceSession(data, options, providers=with_options), None
    except Exception as exc:
        if not any(name in GPU_PROVIDERS for name in providers):
            raise
        # e.g. CUDA libraries missing: the GPU provider throws instead of falling back.
        return _ort().InferenceSession(data, options, providers=[CPU]), str(exc).strip()


def _fallback_reason(device: str, provider: str, failure: str | None) -> str | None:
    if device != "gpu" or provider in GPU_PROVIDERS:
        return None
    if failure:
        return f"the GPU provider failed to start ({failure})"
    available = _ort().get_available_providers()
    if not any(name in GPU_PROVIDERS for name in available):
        return f"this onnxruntime has no GPU provider (available: {', '.join(available)})"
    return "onnxruntime lists a GPU provider but fell back to the CPU (no usable GPU or driver)"


# The process's defaults for `load` (GPU_REQUIRED, ORT_TENSORRT), set by the apps at start.
_defaults: dict[str, Any] = {"gpu_required": False, "tensorrt": False}


def configure(*, gpu_required: bool, tensorrt: bool) -> None:
    _defaults.update(gpu_required=gpu_required, tensorrt=tensorrt)


def cached(
    ctx: Context, path: Path, *, model_id: str, sha256: str, pinned: bool = False, **kw: Any
) -> Session:
    """The session for (model id, ctx.device) from the process's store, loaded once.

    `kw` goes to `load` (gpu_required, tensorrt, threads; the process's defaults
    otherwise). The file's size stands for the session's memory in the store's budget;
    `pinned` keeps it loaded (MODEL_PRELOAD). A stored session whose sha256 is not the
    one asked for (the model was reinstalled) is dropped and loaded afresh.
    """
    key = (model_id, ctx.device)
    kw = {**_defaults, **kw}

    def loader() -> Session:
        return load(path, model_id=model_id, sha256=sha256, device=ctx.device, **kw)

    size = path.stat().st_size if path.exists() else 0
    session: Session = ctx.models.get(key, loader, size=size, pinned=pinned)
    if session.sha256 != sha256.lower():
        ctx.models.unload(key)
        session = ctx.models.get(key, loader, size=size, pinned=pinned)
    if kw.get("gpu_required") and session.fallback:
        # Loaded earlier by a caller that accepted the CPU: this one does not.
        raise ToolError("GPU_UNAVAILABLE", f"Model {model_id} needs a GPU: {session.fallback}", 503)
    return session


def for_model(ctx: Context, spec: ModelSpec, file: ModelFile, **kw: Any) -> Session:
    """The cached session of one installed file of a catalog model (503 if it is missing).

    A model of several files (one per scale) keys each file on its own, and results name
    the file that ran: `realesr-animevideov3/realesr-animevideov3-x2.onnx`.
    """
    assert file.sha256 is not None, f"{spec.id}/{file.name} has no sha256"
    path = install.require(ctx.model_dir, spec, file)
    name = spec.id if len(spec.files) == 1 else f"{spec.id}/{file.name}"
    return cached(ctx, path, model_id=name, sha256=file.sha256, **kw)
