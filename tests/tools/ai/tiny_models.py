"""Tiny ONNX models built with onnx.helper, written to disk with their sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(path: Path, nodes: list[onnx.NodeProto], constants: list[onnx.TensorProto]) -> str:
    """Write a one-input (`input` [N, C, H, W]) one-output model; return its sha256."""
    source = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", "C", "H", "W"])
    result = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", "C", "OH", "OW"])
    graph = helper.make_graph(nodes, path.stem, [source], [result], constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    data = model.SerializeToString(deterministic=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def identity(path: Path) -> str:
    return _save(path, [helper.make_node("Identity", ["input"], ["output"])], [])


def nearest(path: Path, factor: int) -> str:
    """A `factor`× nearest-neighbour upscale (ONNX Resize)."""
    scales = numpy_helper.from_array(np.array([1, 1, factor, factor], np.float32), "scales")
    node = helper.make_node(
        "Resize",
        ["input", "", "scales"],
        ["output"],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )
    return _save(path, [node], [scales])


def add_constant(path: Path, value: float) -> str:
    """input + value: two versions of a model that tell apart which one is loaded."""
    constant = numpy_helper.from_array(np.array(value, np.float32), "value")
    return _save(path, [helper.make_node("Add", ["input", "value"], ["output"])], [constant])
