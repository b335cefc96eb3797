"""The network side of video upscaling: frames in, enlarged frames out, in small batches.

Real-ESRGAN models (ONNX) run the frames of a batch together: the batch's frames are
stacked along the channel axis, so the one tiling helper (`tools.ai.tiling.run_tiled`)
cuts the same windows out of every frame, and each window runs as one (B, 3, h, w)
tensor, as realesrgan-ncnn pre/post-processes a single image (reflect pad 10, scale,
round). One frame per batch on a CPU (no gain there, only memory); VIDEO_GPU_BATCH
frames on a GPU, where it keeps the device busy. A batch of B gives exactly the pixels of
B single runs. Real-CUGAN (ncnn) runs frame by frame through the upscale tool's loader.

After the network, OpenCV resizes to the planned size when it differs from the model's
native scale (INTER_AREA shrinking, Lanczos enlarging); `denoise` runs the upscale tool's
classic non-local means first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from tools import upscale
from tools.ai import onnx_session, realcugan, realesrgan
from tools.ai.catalog import catalog
from tools.ai.credit import Run
from tools.ai.tiling import run_tiled, tile_size_for
from tools.base import Context

GPU_BATCH = 4  # frames per network run on a GPU


@dataclass
class Enlarger:
    """A loaded model at its native scale, and how to run a batch of frames through it."""

    model_id: str
    native: int
    batch: int
    tile: int
    described: dict[str, Any]
    fallback: str | None
    run_batch: Callable[[list[np.ndarray], Context], list[np.ndarray]]


def load(ctx: Context, model_id: str, native: int, tile: int = 0) -> Enlarger:
    """The model, loaded once per worker (the Context's model store)."""
    if model_id == realcugan.MODEL_ID:
        net = realcugan.load(ctx, native)
        size = tile or realcugan.DEFAULT_TILE

        def each(frames: list[np.ndarray], c: Context) -> list[np.ndarray]:
            return [realcugan.upscale(net, f, ctx=c, tile=size) for f in frames]

        return Enlarger(model_id, native, 1, size, net.describe(), net.fallback, each)
    spec = catalog()[model_id]
    file = spec.file_for_scale(native)
    assert file is not None, f"{model_id} has no file for x{native}"
    session = onnx_session.for_model(ctx, spec, file)
    batch = GPU_BATCH if session.device == "gpu" else 1
    size = tile or batch_tile(native, session.device, batch)

    def batched(frames: list[np.ndarray], c: Context) -> list[np.ndarray]:
        return run_esrgan(session, frames, native, size, c)

    return Enlarger(model_id, native, batch, size, session.describe(), session.fallback, batched)


def batch_tile(scale: int, device: str, batch: int) -> int:
    """The core tile edge that keeps a batch's run within the device's budget."""
    budget = realesrgan.MEMORY_MB.get(device, realesrgan.MEMORY_MB["cpu"]) // batch
    edge = tile_size_for(budget, realesrgan.FEATURES, scale)
    return edge - 2 * realesrgan.PREPAD


def run_esrgan(
    session: onnx_session.Session, frames: list[np.ndarray], scale: int, tile: int, ctx: Context
) -> list[np.ndarray]:
    """Frames (H, W, 3) uint8, all one size → (H·scale, W·scale, 3) uint8 each."""
    count = len(frames)
    stacked = np.concatenate(frames, axis=2)  # (H, W, 3·B): one window cut for all
    pad = realesrgan.PREPAD
    padded = np.pad(stacked, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")

    def network(window: np.ndarray) -> np.ndarray:
        h, w = window.shape[:2]
        x = window.reshape(h, w, count, 3).transpose(2, 3, 0, 1).astype(np.float32)
        x *= np.float32(1 / 255.0)
        y = session.run({session.input_names[0]: np.ascontiguousarray(x)})[0]
        y = np.clip(np.floor(y * 255.0 + 0.5), 0, 255).astype(np.uint8)
        return y.transpose(2, 3, 0, 1).reshape(h * scale, w * scale, 3 * count)

    out = run_tiled(padded, network, scale=scale, tile=tile, overlap=pad, ctx=ctx, label="tile")
    crop = pad * scale
    out = out[crop:-crop, crop:-crop]
    return [np.ascontiguousarray(out[..., 3 * i : 3 * i + 3]) for i in range(count)]


def fit(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """The network's output at the planned size (unchanged when it already is)."""
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    if w >= width and h >= height and (w - width) <= 1 and (h - height) <= 1:
        return np.ascontiguousarray(rgb[:height, :width])  # an odd side cropped to even
    shrinking = width * height < w * h
    method = cv2.INTER_AREA if shrinking else cv2.INTER_LANCZOS4
    return cv2.resize(rgb, (width, height), interpolation=method)


def denoise(rgb: np.ndarray, level: float) -> tuple[np.ndarray, Run]:
    """The upscale tool's classic denoise (OpenCV non-local means) at `level` 0..1."""
    cleaned, run, _ = upscale.denoise_first(rgb, level)
    return cleaned, run
