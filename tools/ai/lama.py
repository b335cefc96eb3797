"""Inpainting with LaMa (big-lama, Carve's ONNX export): fill masked pixels with content.

The model (catalog id `lama`, `lama_fp32.onnx`) has a fixed 512x512 input, as published:
inputs `image` (1x3x512x512 RGB in 0..1) and `mask` (1x1x512x512, 1 = fill), output
`output` (1x3x512x512 RGB in 0..255). A whole photo squeezed into 512 px would lose its
detail, so each masked area is worked on at its own scale:

1. the mask's connected areas get a box with context around them (half the area's size,
   at least 32 px), made square where the image allows (LaMa sees 512x512: a square crop
   keeps proportions); overlapping boxes merge, and at most `MAX_REGIONS` boxes run
   (the nearest ones are merged until then);
2. each box is resized to 512x512 (area filter down, cubic up), its mask is resized so
   that no masked pixel disappears, and the masked pixels are zeroed before the run;
3. the output is resized back to the box and pasted **only where the mask is set**: every
   other pixel of the image is returned unchanged, bit for bit.

Progress and cancellation are checked at each box. Runs on ctx.device through the cached
onnxruntime session (tools.ai.onnx_session).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tools import arrays
from tools.ai import catalog, onnx_session
from tools.base import Context

MODEL_ID = "lama"
SIZE = 512
MAX_REGIONS = 16
_MIN_CONTEXT = 32
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


def inpaint(
    ctx: Context,
    rgb: np.ndarray,
    mask: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """(H, W, 3) uint8 RGB and an (H, W) bool mask -> the inpainted copy and the run's
    description (503 MODEL_NOT_INSTALLED when LaMa is missing)."""
    spec = catalog.get(MODEL_ID)
    assert spec is not None, "lama is in the catalog"
    session = onnx_session.for_model(ctx, spec, spec.files[0])
    height, width = mask.shape
    boxes = regions(mask, width, height)
    result = rgb.copy()
    for done, (x0, y0, x1, y1) in enumerate(boxes):
        ctx.check_cancelled()
        if progress is not None:
            progress(done, len(boxes))
        inside = mask[y0:y1, x0:x1]
        filled = _run(session, rgb[y0:y1, x0:x1], inside)
        result[y0:y1, x0:x1][inside] = filled[inside]
    return result, session.describe()


def regions(mask: np.ndarray, width: int, height: int) -> list[Box]:
    """The boxes (with context) that cover every masked pixel."""
    cv2 = arrays.cv2()
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    boxes = [_with_context(tuple(stats[i, :4]), width, height) for i in range(1, count)]
    boxes = _merge_overlaps(boxes)
    while len(boxes) > MAX_REGIONS:
        boxes = _merge_closest(boxes)
    return [_square(box, width, height) for box in boxes]


def _with_context(stat: tuple[int, ...], width: int, height: int) -> Box:
    x, y, w, h = (int(v) for v in stat)
    margin = max(_MIN_CONTEXT, max(w, h) // 2)
    return (
        max(0, x - margin),
        max(0, y - margin),
        min(width, x + w + margin),
        min(height, y + h + margin),
    )


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def _merge_overlaps(boxes: list[Box]) -> list[Box]:
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _overlap(boxes[i], boxes[j]):
                    boxes[i] = _union(boxes[i], boxes.pop(j))
                    merged = True
                    break
            if merged:
                break
    return boxes


def _merge_closest(boxes: list[Box]) -> list[Box]:
    """Merge the pair whose union adds the least area, then any overlaps that makes."""
    pairs = ((i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)))

    def growth(pair: tuple[int, int]) -> int:
        a, b = boxes[pair[0]], boxes[pair[1]]
        return _area(_union(a, b)) - _area(a) - _area(b)

    i, j = min(pairs, key=growth)
    boxes[i] = _union(boxes[i], boxes.pop(j))
    return _merge_overlaps(boxes)


def _square(box: Box, width: int, height: int) -> Box:
    """Grow the shorter side (centred, within the image) towards a square."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    x0, x1 = _grow(x0, x1, min(side, width), width)
    y0, y1 = _grow(y0, y1, min(side, height), height)
    return x0, y0, x1, y1


def _grow(start: int, end: int, want: int, limit: int) -> tuple[int, int]:
    missing = want - (end - start)
    start = max(0, start - missing // 2)
    end = min(limit, start + want)
    return max(0, end - want), end


def _run(session: onnx_session.Session, crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """LaMa on one box: (h, w, 3) uint8 + (h, w) bool -> (h, w, 3) uint8."""
    cv2 = arrays.cv2()
    height, width = mask.shape
    down = height > SIZE or width > SIZE
    image = cv2.resize(
        crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA if down else cv2.INTER_CUBIC
    )
    # Area-resized, any touched pixel counts: a 1 px scratch never vanishes when shrunk.
    small = cv2.resize(mask.astype(np.float32), (SIZE, SIZE), interpolation=cv2.INTER_AREA) > 0
    holes = small.astype(np.float32)[None, None]
    pixels = image.astype(np.float32).transpose(2, 0, 1)[None] / 255.0
    feeds = _feeds(session, pixels * (1.0 - holes), holes)
    output = session.run(feeds)[0][0].transpose(1, 2, 0)
    output = cv2.resize(np.clip(output, 0, 255), (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(np.rint(output), 0, 255).astype(np.uint8)


def _feeds(
    session: onnx_session.Session, image: np.ndarray, mask: np.ndarray
) -> dict[str, np.ndarray]:
    """By name (`image`, `mask`), else by channel count (the mask has one)."""
    feeds = {}
    for node in session.inference.get_inputs():
        one_channel = len(node.shape) == 4 and node.shape[1] == 1
        feeds[node.name] = mask if node.name == "mask" or one_channel else image
    return feeds
