"""tools.ai.tiling: exact stitching, progress per tile, cancel, out-of-memory retry."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from onnxruntime.capi.onnxruntime_pybind11_state import RuntimeException

from tests.tools.ai import tiny_models
from tools.ai import onnx_session
from tools.ai.store import ModelStore
from tools.ai.tiling import TileModel, run_tiled, tile_size_for
from tools.base import Cancelled, Context, ToolError

SIZES = [(67, 131), (1, 1), (5, 3), (64, 64), (100, 37)]
TILES = [1, 7, 16, 33, 64, 200, 0]
OOM = (
    "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running "
    "Conv node. Name:'Conv_0' Status Message: bfc_arena.cc:376 onnxruntime::BFCArena::"
    "AllocateRawInternal Failed to allocate memory for requested buffer of size 285081600"
)


def _image(height: int, width: int, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(height * 1000 + width)
    return rng.integers(0, 256, (height, width, channels), dtype=np.uint8)


def _nearest(factor: int) -> TileModel:
    return lambda x: np.repeat(np.repeat(x, factor, axis=0), factor, axis=1)


class Recorder:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.events: list[tuple[float, str]] = []
        self.cancel_after = cancel_after

    def progress(self, percent: float, message: str) -> None:
        self.events.append((percent, message))

    def is_cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.events) >= self.cancel_after


def _ctx(tmp_path: Path, recorder: Recorder | None = None) -> Context:
    recorder = recorder or Recorder()
    return Context(
        scratch_dir=tmp_path,
        progress=recorder.progress,
        is_cancelled=recorder.is_cancelled,
        models=ModelStore(),
    )


@pytest.mark.parametrize("overlap", [0, 1, 5, 32])
@pytest.mark.parametrize("scale", [1, 2, 3])
def test_stitching_is_exact(tmp_path: Path, scale: int, overlap: int) -> None:
    model = _nearest(scale)
    for (height, width), tile in itertools.product(SIZES, TILES):
        image = _image(height, width)
        out = run_tiled(image, model, scale=scale, tile=tile, overlap=overlap, ctx=_ctx(tmp_path))
        assert np.array_equal(out, model(image)), (height, width, tile)


def test_the_model_may_change_channels_and_dtype(tmp_path: Path) -> None:
    image = _image(67, 131)

    def mean_of(window: np.ndarray) -> np.ndarray:
        return window.mean(axis=2, keepdims=True, dtype=np.float32)

    out = run_tiled(image, mean_of, scale=1, tile=20, overlap=3, ctx=_ctx(tmp_path))
    assert out.shape == (67, 131, 1) and out.dtype == np.float32
    assert np.array_equal(out, mean_of(image))


@pytest.mark.parametrize("factor", [1, 2])
def test_an_onnx_model_stitches_exactly(tmp_path: Path, factor: int) -> None:
    path = tmp_path / "m.onnx"
    sha = tiny_models.nearest(path, factor) if factor > 1 else tiny_models.identity(path)
    session = onnx_session.load(path, model_id="test.m", sha256=sha, device="cpu")

    def model(window: np.ndarray) -> np.ndarray:
        [y] = session.run({"input": window.transpose(2, 0, 1)[None].astype(np.float32)})
        return y[0].transpose(1, 2, 0)

    image = _image(67, 131).astype(np.float32)
    out = run_tiled(image, model, scale=factor, tile=24, overlap=4, ctx=_ctx(tmp_path))
    assert np.array_equal(out, _nearest(factor)(image))


def test_progress_counts_tiles_and_reaches_100(tmp_path: Path) -> None:
    recorder = Recorder()
    run_tiled(
        _image(67, 131),
        _nearest(2),
        scale=2,
        tile=32,
        overlap=8,
        ctx=_ctx(tmp_path, recorder),
        label="upscaling tile",
    )
    total = 3 * 5  # ceil(67 / 32) rows × ceil(131 / 32) columns
    assert [m for _, m in recorder.events] == [f"upscaling tile {i}/{total}" for i in range(1, 16)]
    percents = [p for p, _ in recorder.events]
    assert percents == sorted(percents) and percents[-1] == 100


def test_cancel_between_tiles(tmp_path: Path) -> None:
    calls: list[tuple[int, ...]] = []

    def model(window: np.ndarray) -> np.ndarray:
        calls.append(window.shape)
        return window

    with pytest.raises(Cancelled):
        run_tiled(
            _image(67, 131),
            model,
            scale=1,
            tile=32,
            overlap=0,
            ctx=_ctx(tmp_path, Recorder(cancel_after=3)),
        )
    assert len(calls) == 3


def _limited(max_pixels: int, calls: list[int]) -> TileModel:
    """Identity that fails like onnxruntime for windows of more than `max_pixels`."""

    def model(window: np.ndarray) -> np.ndarray:
        calls.append(window.shape[0] * window.shape[1])
        if calls[-1] > max_pixels:
            raise RuntimeException(OOM)
        return window

    return model


def test_out_of_memory_retries_with_half_the_tile(tmp_path: Path) -> None:
    image, recorder = _image(67, 131), Recorder()
    calls: list[int] = []
    notes: list[str] = []
    out = run_tiled(
        image,
        _limited(48 * 48, calls),
        scale=1,
        tile=64,
        overlap=8,
        ctx=_ctx(tmp_path, recorder),
        notes=notes,
    )
    assert np.array_equal(out, image)
    assert notes == ["ran out of memory with 64px tiles; retried with 32px tiles"]
    assert calls[0] > 48 * 48 and len(calls) == 1 + 3 * 5  # the failed tile, then 15 tiles
    assert recorder.events[-1] == (100, "tile 15/15")


def test_running_out_of_memory_twice_is_out_of_memory(tmp_path: Path) -> None:
    calls: list[int] = []
    with pytest.raises(ToolError) as err:
        run_tiled(
            _image(67, 131), _limited(0, calls), scale=1, tile=64, overlap=8, ctx=_ctx(tmp_path)
        )
    assert (err.value.code, err.value.status) == ("OUT_OF_MEMORY", 503)
    assert "32px" in err.value.message and len(calls) == 2


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    calls: list[int] = []

    def broken(window: np.ndarray) -> np.ndarray:
        calls.append(1)
        raise RuntimeException("Invalid input name: x")

    with pytest.raises(RuntimeException):
        run_tiled(_image(10, 10), broken, scale=1, tile=4, overlap=0, ctx=_ctx(tmp_path))
    assert calls == [1]


def test_a_model_returning_the_wrong_size_is_a_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected"):
        run_tiled(_image(10, 10), _nearest(2), scale=3, tile=4, overlap=0, ctx=_ctx(tmp_path))


def test_tile_size_for_a_memory_budget() -> None:
    # 4 bytes × 64 channels × (16 + 3 × 16) = 16 KiB per pixel: 1 GiB is 256².
    assert tile_size_for(1024, channels=64, scale=4) == 256
    assert tile_size_for(4096, channels=64, scale=4) == 512
    assert tile_size_for(1024, channels=64, scale=2) > tile_size_for(1024, channels=64, scale=4)
    assert tile_size_for(1024, channels=64, scale=4, bytes_per_value=2) == 352
    assert tile_size_for(16, channels=64, scale=4) == 64  # the floor
    assert tile_size_for(16, channels=64, scale=4, floor=16) == 32
    assert all(tile_size_for(m, 64, 4) % 16 == 0 for m in (100, 700, 3000, 20000))
