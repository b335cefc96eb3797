"""Running an image-to-image model tile by tile: the one tiling helper of the AI tools.

Why tiles: a network's memory grows with the pixels it sees, so big images go through in
pieces. Each tile is cut with `overlap` pixels of real image around it (fewer at the image
edges), run, and only its core — the part that had context on every side — is kept. So a
per-pixel model gives back exactly what it gives on the whole image, whatever the tile
size, and a convolutional one gives no visible seams when `overlap` covers its reach.

Out of memory: a tile whose run fails for lack of memory (`is_out_of_memory`) starts the
image again with tiles half as big, once. From scratch rather than from the failed tile
because one grid over the whole image keeps the result independent of when memory ran
short (tiles of a single size meet at the same places), and because the first tile is as
big as any, so an out-of-memory almost always comes before any work would be lost. A
second out-of-memory is OUT_OF_MEMORY.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from tools.ai.onnx_session import is_out_of_memory
from tools.base import Context, ToolError

TileModel = Callable[[np.ndarray], np.ndarray]

# Feature maps' worth of memory a CNN holds per pixel, at its input size and at its output
# size. Calibrated on RRDBNet (realesrgan-x4plus, width 64) on onnxruntime's CPU provider:
# a 256² input peaked at 990 MB, the estimate gives 1024 MB. SRVGGNetCompact
# (animevideov3) needs about 15× less, so the estimate errs on the safe side for it.
_MAPS_AT_INPUT_SIZE = 16
_MAPS_AT_OUTPUT_SIZE = 3


@dataclass(frozen=True)
class _Tile:
    """A tile's core (what it contributes) and its context window (what the model sees)."""

    core: tuple[slice, slice]
    window: tuple[slice, slice]


def tile_size_for(
    memory_mb: int, channels: int, scale: int, bytes_per_value: int = 4, floor: int = 64
) -> int:
    """The edge of the square a model can see at once within `memory_mb`.

    Estimate: a CNN of width `channels` holds about 16 feature maps at its input size and
    3 at its output size, so one input pixel costs
    bytes_per_value × channels × (16 + 3 × scale²) bytes (see the calibration above).
    The edge is the square root of the budget over that, rounded down to a multiple of 16
    and at least `floor`. It is the size of the model's input: `run_tiled`'s `tile` is
    that less 2 × overlap.
    """
    per_pixel = bytes_per_value * channels * (_MAPS_AT_INPUT_SIZE + _MAPS_AT_OUTPUT_SIZE * scale**2)
    edge = math.isqrt(memory_mb * 1024 * 1024 // per_pixel)
    return max(floor, edge // 16 * 16)


def _spans(length: int, tile: int, overlap: int) -> Iterator[tuple[slice, slice]]:
    """(core, window) along one axis: cores cover [0, length), windows add the overlap."""
    for start in range(0, length, tile):
        stop = min(start + tile, length)
        yield slice(start, stop), slice(max(0, start - overlap), min(length, stop + overlap))


def _tiles(height: int, width: int, tile: int, overlap: int) -> list[_Tile]:
    rows = list(_spans(height, tile, overlap))
    cols = list(_spans(width, tile, overlap))
    return [_Tile((r[0], c[0]), (r[1], c[1])) for r in rows for c in cols]


def _core_of(result: np.ndarray, tile: _Tile, scale: int) -> np.ndarray:
    """The part of a window's result that belongs to the tile's core."""
    (core_y, core_x), (win_y, win_x) = tile.core, tile.window
    expected = ((win_y.stop - win_y.start) * scale, (win_x.stop - win_x.start) * scale)
    if result.shape[:2] != expected:
        raise ValueError(f"model returned {result.shape[:2]} for a window, expected {expected}")
    top, left = (core_y.start - win_y.start) * scale, (core_x.start - win_x.start) * scale
    return result[
        top : top + (core_y.stop - core_y.start) * scale,
        left : left + (core_x.stop - core_x.start) * scale,
    ]


def _run_grid(
    image: np.ndarray,
    model: TileModel,
    scale: int,
    tile: int,
    overlap: int,
    ctx: Context,
    label: str,
) -> np.ndarray:
    height, width = image.shape[:2]
    tiles = _tiles(height, width, tile, overlap)
    out: np.ndarray | None = None
    for done, part in enumerate(tiles, start=1):
        ctx.check_cancelled()
        core = _core_of(model(image[part.window]), part, scale)
        if out is None:  # channels and dtype are the model's: known after the first tile
            out = np.empty((height * scale, width * scale, *core.shape[2:]), core.dtype)
        rows, cols = part.core
        out[rows.start * scale : rows.stop * scale, cols.start * scale : cols.stop * scale] = core
        ctx.progress(100 * done / len(tiles), f"{label} {done}/{len(tiles)}")
    assert out is not None  # an image has at least one pixel, hence one tile
    return out


def run_tiled(
    image: np.ndarray,
    model: TileModel,
    *,
    scale: int,
    tile: int,
    overlap: int,
    ctx: Context,
    label: str = "tile",
    notes: list[str] | None = None,
) -> np.ndarray:
    """`model` over `image` (H, W, C) in tiles of `tile` px (0: one tile), stitched exactly.

    `model` maps an (h, w, C) window to (h*scale, w*scale, C'). A retry after running out
    of memory is described in `notes` (when given) so the tool can report it.
    """
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError("cannot tile an empty image")
    tile = tile if tile > 0 else max(image.shape[:2])
    try:
        return _run_grid(image, model, scale, tile, overlap, ctx, label)
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        if tile == 1:
            raise _out_of_memory(tile) from exc
    smaller = tile // 2
    if notes is not None:
        notes.append(f"ran out of memory with {tile}px tiles; retried with {smaller}px tiles")
    try:
        return _run_grid(image, model, scale, smaller, overlap, ctx, label)
    except Exception as exc:
        if not is_out_of_memory(exc):
            raise
        raise _out_of_memory(smaller) from exc


def _out_of_memory(tile: int) -> ToolError:
    # 503: the memory may be held by other jobs right now; a later try, or a smaller
    # image, can succeed. (507 is this API's "disk full".)
    return ToolError(
        "OUT_OF_MEMORY", f"Not enough memory to process this image, even in {tile}px tiles", 503
    )
