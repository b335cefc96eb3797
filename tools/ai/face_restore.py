"""Face restoration with GFPGAN v1.4 or CodeFormer (ONNX): align, restore, paste back.

Both models restore one face at a time on a 512x512 crop aligned like the FFHQ faces
they were trained on. For each detected face (tools.ai.mediapipe_tasks):

1. Align: the similarity transform (rotation, uniform scale, shift; least squares,
   Umeyama 1991) that maps four of the detector's keypoints (right eye, left eye, nose
   tip, mouth centre) onto the FFHQ 512 template's (facexlib's five-point template; the
   mouth centre is the mean of its two mouth corners), and the face is warped into
   512x512 with it (bilinear; grey outside the image, as facexlib pads).
2. Restore: the crop as RGB in -1..1 (1x3x512x512, input `input`); CodeFormer also takes
   `weight`, its fidelity (0 = strongest restoration, 1 = closest to the input face);
   the output is clipped to -1..1.
3. Paste back: the restored crop and a feathered mask (full inside the face, fading to 0
   over the crop's outer ~8%) are warped back with the inverse transform, and the face is
   blended over the image by mask x `strength`. Pixels the mask does not reach are
   returned exactly as they were.

Runs on ctx.device through the cached onnxruntime session. The weights are downloads
(catalog `gfpgan-v1.4`, `codeformer`); CodeFormer's licence is non-commercial.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from tools import arrays
from tools.ai import catalog, onnx_session
from tools.ai.mediapipe_tasks import Face
from tools.base import Context

SIZE = 512
MODELS = {"gfpgan": "gfpgan-v1.4", "codeformer": "codeformer"}
KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth_center")
# FFHQ 512 template (facexlib): the person's right eye (left in the picture), left eye,
# nose tip, and the mean of the two mouth corners (201.26, 371.41) and (313.09, 371.15).
TEMPLATE = np.array(
    [
        [192.98138, 239.94708],
        [318.90277, 240.19360],
        [256.63416, 314.01935],
        [257.17511, 371.28080],
    ],
    dtype=np.float64,
)
_PAD_GREY = (135, 133, 132)  # facexlib's border colour for faces at the image's edge
_FEATHER = 0.08  # of the crop's side


def session(ctx: Context, model_id: str) -> onnx_session.Session:
    """The model's cached session; 503 MODEL_NOT_INSTALLED when it is missing."""
    spec = catalog.get(model_id)
    assert spec is not None, f"{model_id} is in the catalog"
    return onnx_session.for_model(ctx, spec, spec.files[0])


def restore_faces(
    ctx: Context,
    rgb: np.ndarray,
    faces: Sequence[Face],
    model: onnx_session.Session,
    *,
    strength: float,
    fidelity: float = 0.5,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """(H, W, 3) uint8 RGB with every face restored, and the model's description."""
    canvas = rgb.astype(np.float32)
    for done, face in enumerate(faces):
        ctx.check_cancelled()
        if progress is not None:
            progress(done, len(faces))
        matrix = alignment(face)
        crop = warp_face(rgb, matrix)
        restored = restore_crop(model, crop, fidelity)
        paste(canvas, restored, matrix, strength)
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8), model.describe()


def alignment(face: Face) -> np.ndarray:
    """The 2x3 similarity matrix from image pixels to the 512 template."""
    points = np.array([face.keypoints[name] for name in KEYPOINTS], dtype=np.float64)
    return similarity(points, TEMPLATE)


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + shift taking `source` points to `target`
    (Umeyama's method, reflections excluded), as a 2x3 matrix."""
    src_mean, dst_mean = source.mean(axis=0), target.mean(axis=0)
    src, dst = source - src_mean, target - dst_mean
    covariance = dst.T @ src / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(singular) @ sign) / (src**2).sum() * len(source))
    shift = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, shift[:, None]])


def warp_face(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    cv2 = arrays.cv2()
    return cv2.warpAffine(
        rgb, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=_PAD_GREY,
    )  # fmt: skip


def restore_crop(model: onnx_session.Session, crop: np.ndarray, fidelity: float) -> np.ndarray:
    """(512, 512, 3) uint8 -> restored (512, 512, 3) float32 in 0..255."""
    pixels = crop.astype(np.float32).transpose(2, 0, 1)[None] / 127.5 - 1.0
    feeds: dict[str, np.ndarray] = {}
    for node in model.inference.get_inputs():
        if len(node.shape) == 4:
            feeds[node.name] = pixels
        else:  # CodeFormer's fidelity `weight`: a double in FaceFusion's export
            dtype = np.float64 if "double" in node.type else np.float32
            feeds[node.name] = np.array([fidelity], dtype=dtype)
    output = model.run(feeds)[0][0]
    return ((np.clip(output, -1.0, 1.0) + 1.0) * 127.5).transpose(1, 2, 0).astype(np.float32)


def paste(canvas: np.ndarray, face: np.ndarray, matrix: np.ndarray, strength: float) -> None:
    """Blend the restored crop back into `canvas` (float32 RGB) in place, feathered."""
    cv2 = arrays.cv2()
    height, width = canvas.shape[:2]
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0, 1], [SIZE, 0, 1], [0, SIZE, 1], [SIZE, SIZE, 1]], np.float64)
    mapped = corners @ inverse.T
    x0, y0 = np.floor(mapped.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(mapped.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x0 >= x1 or y0 >= y1:
        return
    to_roi = inverse.copy()
    to_roi[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    back = cv2.warpAffine(
        face, to_roi, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    weight = cv2.warpAffine(_feather(), to_roi, size, flags=cv2.INTER_LINEAR, borderValue=0.0)
    weight = (np.clip(weight, 0.0, 1.0) * strength)[..., None]
    region = canvas[y0:y1, x0:x1]
    region += (back - region) * weight


@cache
def _feather() -> np.ndarray:
    """1 inside the crop, falling smoothly to 0 at its edge (float32, 512x512)."""
    cv2 = arrays.cv2()
    edge = round(SIZE * _FEATHER)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[edge:-edge, edge:-edge] = 1.0
    blurred = cv2.GaussianBlur(mask, (0, 0), edge / 2)
    blurred[: edge // 3] = blurred[:, : edge // 3] = 0.0
    blurred[-(edge // 3) :] = blurred[:, -(edge // 3) :] = 0.0
    return blurred
