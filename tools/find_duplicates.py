"""Find duplicates: group near-identical images by perceptual hash.

Each image is reduced by libvips to grey (transparent areas flattened on white) and
hashed two ways, both 64-bit:

- `phash`: the 32x32 grey thumbnail goes through a 2-D DCT (type II); the 8x8
  lowest frequencies are compared with their median (the DC term left out of it).
  Robust to resizing, recompression and small colour changes.
- `dhash`: a 9x8 thumbnail; each bit says whether a pixel is brighter than its right
  neighbour. Cheap and good at the same edits, a little weaker on gamma changes.

Two images are near-identical when the Hamming distance of their hashes is at most
`threshold` (0..64, default 8); with `algorithm` "both" the larger of the two distances
counts. Groups are the connected parts of that relation (single linkage: A~B and B~C put
A, B and C together even when A and C are further apart); every group lists its files
(index in upload order and name) and the distance of every pair inside it. Files close to
no other file are listed in `singletons`.

Limits: the first page/frame of each file; up to 200 files (the runner's bound), so at
most 19,900 pairs are compared. Perceptual hashes do not see crops, rotations or mirror
images as duplicates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from itertools import combinations
from typing import Any, Literal

import pyvips
from pydantic import Field

from tools import imaging
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolSettings

_DCT_SIZE = 32
_LOW = 8


class Settings(ToolSettings):
    """How close two hashes must be, and which hash to compare."""

    threshold: int = Field(
        8,
        ge=0,
        le=64,
        description="Largest Hamming distance (of 64 bits) of near-identical images.",
    )
    algorithm: Literal["phash", "dhash", "both"] = Field(
        "phash", description='Hash to compare: "phash" (DCT), "dhash" (gradient) or "both".'
    )


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Hash every file and group those within `threshold`; see the module docstring."""
    hashes: list[dict[str, int]] = []
    for number, source in enumerate(inputs):
        ctx.check_cancelled()
        ctx.progress(90 * number / len(inputs), f"hashing {source.name}")
        hashes.append(image_hashes(imaging.load(source, ctx.max_megapixels)))
    distances = {
        (a, b): _distance(hashes[a], hashes[b], settings.algorithm)
        for a, b in combinations(range(len(inputs)), 2)
    }
    groups = _group(len(inputs), distances, settings.threshold)
    files = [_file(i, source, hashes[i]) for i, source in enumerate(inputs)]
    data: dict[str, Any] = {
        "algorithm": settings.algorithm,
        "threshold": settings.threshold,
        "groups": [_describe(group, inputs, distances) for group in groups if len(group) > 1],
        "singletons": [_ref(group[0], inputs) for group in groups if len(group) == 1],
        "files": files,
    }
    data["duplicateCount"] = sum(len(g["files"]) - 1 for g in data["groups"])
    ctx.progress(100, "done")
    engine = f"{imaging.engine_name()} (thumbnails) + dHash/pHash in Python"
    return Output.json(data, engine)


def image_hashes(image: pyvips.Image) -> dict[str, int]:
    """The 64-bit pHash and dHash of a decoded image."""
    if image.hasalpha():
        image = image.colourspace("srgb").flatten(background=[255, 255, 255])
    grey = image.colourspace("b-w")[0].cast("float")
    # A bounded in-memory copy first: both thumbnails are made from it.
    scale = 256 / max(grey.width, grey.height)
    if scale < 1:
        grey = grey.resize(scale, kernel="linear")
    grey = grey.copy_memory()
    return {"phash": phash(grey), "dhash": dhash(grey)}


def _pixels(grey: pyvips.Image, width: int, height: int) -> list[list[float]]:
    """`grey` squeezed to width x height (area average), as rows of floats."""
    small = grey.resize(width / grey.width, vscale=height / grey.height, kernel="linear")
    values = list(memoryview(small.cast("float").write_to_memory()).cast("f"))
    return [values[row * width : (row + 1) * width] for row in range(height)]


def dhash(grey: pyvips.Image) -> int:
    """64 bits: for each of 8 rows, is each of 9 pixels brighter than its right neighbour."""
    bits = 0
    for row in _pixels(grey, 9, 8):
        for x in range(8):
            bits = (bits << 1) | int(row[x] > row[x + 1])
    return bits


def phash(grey: pyvips.Image) -> int:
    """64 bits: the 8x8 lowest DCT frequencies of a 32x32 thumbnail above their median."""
    pixels = _pixels(grey, _DCT_SIZE, _DCT_SIZE)
    basis = _dct_basis()
    # Rows, then columns: coeff[u][v] = sum_x sum_y basis[u][x] * p[x][y] * basis[v][y].
    rows = [
        [sum(b * p for b, p in zip(basis[v], line, strict=True)) for v in range(_LOW)]
        for line in pixels
    ]
    coeffs = [
        sum(basis[u][x] * rows[x][v] for x in range(_DCT_SIZE))
        for u in range(_LOW)
        for v in range(_LOW)
    ]
    median = sorted(coeffs[1:])[len(coeffs[1:]) // 2]
    bits = 0
    for value in coeffs:
        bits = (bits << 1) | int(value > median)
    return bits


@cache
def _dct_basis() -> list[list[float]]:
    """The first 8 rows of the 32-point DCT-II matrix (the scale does not change the bits)."""
    n = _DCT_SIZE
    return [[math.cos(math.pi * (2 * x + 1) * u / (2 * n)) for x in range(n)] for u in range(_LOW)]


def _distance(a: dict[str, int], b: dict[str, int], algorithm: str) -> int:
    names = ("phash", "dhash") if algorithm == "both" else (algorithm,)
    return max((a[name] ^ b[name]).bit_count() for name in names)


def _group(count: int, distances: dict[tuple[int, int], int], threshold: int) -> list[list[int]]:
    """Connected parts of the "within threshold" relation, each sorted, in upload order."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (a, b), distance in distances.items():
        if distance <= threshold:
            parent[max(root(a), root(b))] = min(root(a), root(b))
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def _ref(index: int, inputs: Sequence[Source]) -> dict[str, Any]:
    return {"index": index, "name": inputs[index].name}


def _file(index: int, source: Source, hashes: dict[str, int]) -> dict[str, Any]:
    return {"index": index, "name": source.name, **{k: f"{v:016x}" for k, v in hashes.items()}}


def _describe(
    group: list[int], inputs: Sequence[Source], distances: dict[tuple[int, int], int]
) -> dict[str, Any]:
    pairs = [{"a": a, "b": b, "distance": distances[(a, b)]} for a, b in combinations(group, 2)]
    return {"files": [_ref(i, inputs) for i in group], "distances": pairs}


TOOL = Tool(
    id="find-duplicates",
    name="Find Duplicates",
    category="utilities",
    description="Group near-identical images (resized, recompressed copies) by perceptual "
    "hash (pHash/dHash) within a Hamming distance threshold.",
    settings=Settings,
    run=run,
    inputs=Inputs.MANY,
    output=OutputKind.JSON,
)
