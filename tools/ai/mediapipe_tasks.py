"""Faces and people with MediaPipe: the face detectors and the selfie segmenter.

The models are the .tflite files of the mediapipe 0.10.21 wheel (catalog.toml:
`mediapipe-face-detector`, `mediapipe-face-detector-full`, `mediapipe-selfie-segmenter`),
run through the current MediaPipe Tasks API (`mediapipe.tasks.python.vision`, mediapipe
1.2.2). Those legacy files carry no Tasks metadata, yet FaceDetector and ImageSegmenter
load them from a buffer as they are (checked: the short-range detector finds the
astronaut's face in ~6 ms on 512x512, the segmenter runs in ~9 ms), so no conversion.

- Integrity: each file is found with `install.require` (503 MODEL_NOT_INSTALLED) and
  loaded from the very bytes whose sha256 was checked (`onnx_session.verified_bytes`).
- Reuse: a loaded task lives in the process's ModelStore under (model id, "cpu"); Tasks
  objects are not documented as thread-safe, so each one's calls are serialised by its
  own lock.
- Device: MediaPipe runs on the CPU here (TFLite CPU delegate), and says so.
- Size: the detectors see 128x128 (short range) or 192x192 (full range) and the
  segmenter 256x256 whatever the input, so big images are first shrunk (longest side
  `_DETECT_SIDE` / `_SEGMENT_SIDE`) and the results mapped back. Small faces in a big
  image vanish at 192 px: with `full_range` an image over `_DETECT_SIDE` is also searched
  in overlapping tiles, and duplicates are merged (a box mostly inside a better one goes).
"""

from __future__ import annotations

import atexit
import threading
import weakref
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from tools import arrays
from tools.ai import engines, install
from tools.ai.catalog import ModelFile, ModelSpec, catalog
from tools.base import Context, ToolError

SHORT_RANGE = "mediapipe-face-detector"
FULL_RANGE = "mediapipe-face-detector-full"
SEGMENTER = "mediapipe-selfie-segmenter"
DEVICE = "cpu"

# MediaPipe's face keypoints, in its order: the person's right/left.
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")
_DETECT_SIDE = 1280  # the detectors' inputs are tiny: no use handing them more pixels
_SEGMENT_SIDE = 1024
_TILE_SIDE = 768  # at most: a face of ~1/10 of a tile is still clear at 192 px
_TILE_OVERLAP = 0.25
_SAME_FACE = 0.5  # a box this much inside a better one (intersection / its area) is a duplicate


@dataclass(frozen=True)
class Face:
    """One detected face, in the pixels of the image given to detect_faces."""

    box: tuple[int, int, int, int]  # x, y, width, height, clipped to the image
    score: float  # 0..1
    keypoints: dict[str, tuple[float, float]]  # KEYPOINTS -> (x, y) pixels


@dataclass
class _Task:
    """A loaded Tasks object, its lock, and what to say about it."""

    task: Any
    lock: threading.Lock
    described: dict[str, Any]


@cache
def _mp() -> ModuleType:
    """mediapipe, imported on first use (it takes ~0.5 s): the web process never needs it."""
    import mediapipe

    return mediapipe


def detect_faces(
    ctx: Context, rgb: np.ndarray, *, min_score: float = 0.5, full_range: bool = False
) -> tuple[list[Face], dict[str, Any]]:
    """(H, W, 3) uint8 RGB -> faces sorted by score (best first), and the run's description
    {engine, model, modelSha256, device} (a dict that tools.ai.credit.Run.of accepts)."""
    loaded = _load(ctx, FULL_RANGE if full_range else SHORT_RANGE, _face_detector)
    height, width = rgb.shape[:2]
    regions = [(0, 0, width, height)]
    if full_range and max(width, height) > _DETECT_SIDE:
        regions += _tiles(width, height)
    found: list[Face] = []
    for x, y, w, h in regions:
        found += _detect_region(loaded, rgb[y : y + h, x : x + w], (x, y), min_score)
    return _merge(found, width, height), dict(loaded.described)


def find_faces(
    ctx: Context, rgb: np.ndarray, *, min_score: float = 0.5, looking_for: str = ""
) -> tuple[list[Face], list[dict[str, Any]]]:
    """Faces by the short-range detector, else (a small or distant face) by the full-range
    one when it is installed; the descriptions of the runs that looked. With
    `looking_for` (what the caller needs faces for), none found is 422 NO_FACE_FOUND."""
    faces, described = detect_faces(ctx, rgb, min_score=min_score)
    runs = [described]
    if not faces and install.is_installed(ctx.model_dir, FULL_RANGE):
        faces, described = detect_faces(ctx, rgb, min_score=min_score, full_range=True)
        runs.append(described)
    if not faces and looking_for:
        raise ToolError("NO_FACE_FOUND", f"No face was found, so no {looking_for}", 422)
    return faces, runs


def segment_person(ctx: Context, rgb: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """(H, W, 3) uint8 RGB -> (H, W) float32 mask in 0..1 (1 = person), at the image's
    size, and the run's description."""
    loaded = _load(ctx, SEGMENTER, _segmenter)
    height, width = rgb.shape[:2]
    small, _ = _shrink(rgb, _SEGMENT_SIDE)
    with loaded.lock:
        result = loaded.task.segment(_image(small))
    mask = np.array(result.confidence_masks[0].numpy_view(), dtype=np.float32)
    mask = mask.reshape(small.shape[:2])
    if mask.shape != (height, width):
        mask = arrays.cv2().resize(mask, (width, height), interpolation=arrays.cv2().INTER_LINEAR)
    return np.clip(mask, 0.0, 1.0), dict(loaded.described)


# --- loading -------------------------------------------------------------------------------


def _load(ctx: Context, model_id: str, create: Any) -> _Task:
    """The cached task for a model: checked engine, installed and verified file."""
    spec = catalog()[model_id]
    file = spec.files[0]
    path = install.require(ctx.model_dir, spec, file)
    status = engines.check("tflite")
    if not status.available:
        fix = f" Fix: {status.fix}" if status.fix else ""
        raise ToolError(
            "ENGINE_UNAVAILABLE", f"MediaPipe (TFLite) is unavailable: {status.detail}.{fix}", 503
        )

    def loader() -> _Task:
        return _Task(create(_verified(path, spec, file)), threading.Lock(), _describe(spec, file))

    task: _Task = ctx.models.get((model_id, DEVICE), loader, size=path.stat().st_size)
    return task


def _verified(path: Any, spec: ModelSpec, file: ModelFile) -> bytes:
    from tools.ai.onnx_session import verified_bytes  # the sha256 check, shared

    assert file.sha256 is not None, f"{spec.id}: package files have a sha256"
    return verified_bytes(path, model_id=spec.id, sha256=file.sha256)


def _describe(spec: ModelSpec, file: ModelFile) -> dict[str, Any]:
    return {
        "engine": f"mediapipe {_mp().__version__} (TFLite, CPU)",
        "model": spec.id,
        "modelSha256": file.sha256,
        "device": DEVICE,
    }


def _face_detector(data: bytes) -> Any:
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    # Our own min_score filters later: ask for everything the model finds above 0.1.
    options = vision.FaceDetectorOptions(
        base_options=BaseOptions(model_asset_buffer=data), min_detection_confidence=0.1
    )
    return _closed_at_exit(vision.FaceDetector.create_from_options(options))


def _segmenter(data: bytes) -> Any:
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = vision.ImageSegmenterOptions(
        base_options=BaseOptions(model_asset_buffer=data),
        output_confidence_masks=True,
        output_category_mask=False,
    )
    return _closed_at_exit(vision.ImageSegmenter.create_from_options(options))


def _closed_at_exit(task: Any) -> Any:
    """At exit, let the process drop the task without its __del__ calling into modules
    and thread pools already torn down (every exit would print a TypeError). Eviction
    from the store still closes it normally: the reference kept here is weak."""
    ref = weakref.ref(task)

    def forget() -> None:
        found = ref()
        if found is not None:
            found._handle = None  # close() returns at once; the OS frees the rest

    atexit.register(forget)
    return task


# --- detection -----------------------------------------------------------------------------


def _image(rgb: np.ndarray) -> Any:
    mp = _mp()
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))


def _shrink(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The image with its longest side at most `side`, and the factor back to the input."""
    height, width = rgb.shape[:2]
    longest = max(height, width)
    if longest <= side:
        return rgb, 1.0
    scale = side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return arrays.cv2().resize(rgb, size, interpolation=arrays.cv2().INTER_AREA), longest / side


def _tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles of about half the shorter side, covering the image."""
    side = max(min(min(width, height) // 2, _TILE_SIDE), 64)
    step = max(int(side * (1 - _TILE_OVERLAP)), 1)
    xs = list(range(0, max(width - side, 0) + 1, step))
    ys = list(range(0, max(height - side, 0) + 1, step))
    if xs[-1] + side < width:
        xs.append(width - side)
    if ys[-1] + side < height:
        ys.append(height - side)
    return [(x, y, min(side, width - x), min(side, height - y)) for y in ys for x in xs]


def _detect_region(
    loaded: _Task, rgb: np.ndarray, origin: tuple[int, int], min_score: float
) -> list[Face]:
    small, factor = _shrink(rgb, _DETECT_SIDE)
    with loaded.lock:
        result = loaded.task.detect(_image(small))
    ox, oy = origin
    faces = []
    for detection in result.detections:
        score = float(detection.categories[0].score) if detection.categories else 0.0
        if score < min_score:
            continue
        b = detection.bounding_box
        box = (
            round(ox + b.origin_x * factor),
            round(oy + b.origin_y * factor),
            round(b.width * factor),
            round(b.height * factor),
        )
        points = {
            name: (ox + p.x * small.shape[1] * factor, oy + p.y * small.shape[0] * factor)
            for name, p in zip(KEYPOINTS, detection.keypoints, strict=False)
        }
        faces.append(Face(box, score, points))
    return faces


def _merge(faces: list[Face], width: int, height: int) -> list[Face]:
    """Best first; drop boxes mostly inside a better one (tiles see faces twice); clip."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: f.score, reverse=True):
        if all(_inside(face.box, other.box) < _SAME_FACE for other in kept):
            kept.append(face)
    clipped = [_clip(face, width, height) for face in kept]
    return [face for face in clipped if face.box[2] > 0 and face.box[3] > 0]


def _inside(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """How much of the smaller box lies inside the other (0..1)."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return ix * iy / smaller if smaller > 0 else 0.0


def _clip(face: Face, width: int, height: int) -> Face:
    x, y, w, h = face.box
    x0, y0 = min(max(x, 0), width), min(max(y, 0), height)
    x1, y1 = min(max(x + w, 0), width), min(max(y + h, 0), height)
    return Face((x0, y0, x1 - x0, y1 - y0), face.score, face.keypoints)
