"""Tiny ONNX stand-ins for LaMa, GFPGAN/CodeFormer and DDColor, installed for a test.

The real weights are downloads (hundreds of MB, and no model hub is reachable from the
test machines), so these tests check the *plumbing* around them: the published input and
output names and shapes, pre- and post-processing, crop and paste-back. A stand-in is
built with onnx.helper, written to `<models dir>/<id>/<file>` and put into the catalog
(monkeypatched) under the real model's id with its own sha256, so the tools find, verify
and load it exactly as they would the real file. Nothing here says anything about the
real models' output quality.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.shipped_models import shipped_models_dir
from tools.ai import catalog as catalog_module
from tools.ai.catalog import ModelFile, ModelSpec, Source, catalog

FACE = [1, 3, 512, 512]
Builder = Callable[[], onnx.ModelProto]


def _model(
    inputs: list[tuple[str, int, list[int]]],
    outputs: list[tuple[str, list[int]]],
    nodes: list[onnx.NodeProto],
    constants: dict[str, np.ndarray],
) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "standin",
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [numpy_helper.from_array(v, k) for k, v in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model


def lama(fill: tuple[float, float, float] = (1.0, 0.0, 1.0)) -> onnx.ModelProto:
    """Carve's LaMa I/O: image + mask in, 0..255 out; keeps the image, paints `fill`
    (0..1 RGB) into the hole."""
    return _model(
        [
            ("image", TensorProto.FLOAT, [1, 3, 512, 512]),
            ("mask", TensorProto.FLOAT, [1, 1, 512, 512]),
        ],
        [("output", [1, 3, 512, 512])],
        [
            helper.make_node("Sub", ["one", "mask"], ["keep"]),
            helper.make_node("Mul", ["image", "keep"], ["kept"]),
            helper.make_node("Mul", ["mask", "fill"], ["painted"]),
            helper.make_node("Add", ["kept", "painted"], ["unit"]),
            helper.make_node("Mul", ["unit", "peak"], ["output"]),
        ],
        {
            "one": np.array(1.0, np.float32),
            "fill": np.array(fill, np.float32).reshape(1, 3, 1, 1),
            "peak": np.array(255.0, np.float32),
        },
    )


def face(scale: float = 1.0, shift: float = 0.0) -> onnx.ModelProto:
    """GFPGAN's I/O (`input` -> `output`, -1..1): input * scale + shift (1, 0: identity)."""
    return _model(
        [("input", TensorProto.FLOAT, FACE)],
        [("output", FACE)],
        [
            helper.make_node("Mul", ["input", "scale"], ["scaled"]),
            helper.make_node("Add", ["scaled", "shift"], ["output"]),
        ],
        {"scale": np.array(scale, np.float32), "shift": np.array(shift, np.float32)},
    )


def codeformer() -> onnx.ModelProto:
    """CodeFormer's I/O as FaceFusion exports it (`input` and a double `weight`):
    input * weight, so weight 1 returns the face and weight 0 a mid-grey square."""
    return _model(
        [("input", TensorProto.FLOAT, FACE), ("weight", TensorProto.DOUBLE, [1])],
        [("output", FACE)],
        [
            helper.make_node("Cast", ["weight"], ["w"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["input", "w"], ["output"]),
        ],
        {},
    )


def ddcolor(a: float, b: float) -> onnx.ModelProto:
    """DDColor's I/O (grey RGB 1x3x512x512 in, a/b 1x2x512x512 out): a constant a, b."""
    return _model(
        [("input", TensorProto.FLOAT, [1, 3, 512, 512])],
        [("output", [1, 2, 512, 512])],
        [
            helper.make_node("Slice", ["input", "starts", "ends", "axes"], ["two"]),
            helper.make_node("Mul", ["two", "zero"], ["nothing"]),
            helper.make_node("Add", ["nothing", "ab"], ["output"]),
        ],
        {
            "starts": np.array([0], np.int64),
            "ends": np.array([2], np.int64),
            "axes": np.array([1], np.int64),
            "zero": np.array(0.0, np.float32),
            "ab": np.array([a, b], np.float32).reshape(1, 2, 1, 1),
        },
    )


FILES = {
    "lama": "lama_fp32.onnx",
    "gfpgan-v1.4": "gfpgan_1.4.onnx",
    "codeformer": "codeformer.onnx",
    "ddcolor": "ddcolor.onnx",
}


def install(
    monkeypatch: pytest.MonkeyPatch, root: Path, model_id: str, model: onnx.ModelProto
) -> ModelSpec:
    """Write `model` as `model_id`'s file under `root` and make the catalog name it."""
    data = model.SerializeToString(deterministic=True)
    path = root / model_id / FILES[model_id]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    real = catalog_module.get(model_id)
    spec = ModelSpec(
        id=model_id,
        name=f"{model_id} (test stand-in)",
        description="a tiny onnx.helper model with the real one's inputs and outputs",
        task=real.task if real else "colorize",
        engine="onnxruntime",
        licence="test",
        source=Source(kind="download"),
        files=(
            ModelFile(
                path.name,
                hashlib.sha256(data).hexdigest(),
                len(data),
                url=f"https://example.invalid/{path.name}",
            ),
        ),
    )
    monkeypatch.setitem(catalog(), model_id, spec)
    return spec


def add_face_detector(root: Path) -> None:
    """The shipped short-range MediaPipe face detector (real weights) under `root`."""
    target = root / "mediapipe-face-detector"
    if not target.exists():
        root.mkdir(parents=True, exist_ok=True)
        target.symlink_to(shipped_models_dir() / "mediapipe-face-detector")
