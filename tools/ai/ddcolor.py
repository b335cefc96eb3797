"""Colourisation with DDColor (ONNX): the photo's lightness in, the colour (a, b) out.

DDColor's published inference (piddnad/DDColor, its ONNX exports alike): the image is
resized to 512x512, its CIELAB lightness L is turned back into RGB with a = b = 0 (a grey
RGB image, 1x3x512x512 in 0..1), and the model answers the CIELAB a and b channels
(1x2x512x512). Here a and b are resized to the photo's size and joined with the photo's
own full-resolution L, so no detail is lost to the 512 px pass; `intensity` blends them
with the photo's own a and b (0 = unchanged, 1 = the model's colours).

The catalog does not list a DDColor file yet (see catalog.toml): until an operator's
catalog names `ddcolor`, the tool answers 503 MODEL_NOT_INSTALLED.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tools import arrays
from tools.ai import catalog, onnx_session
from tools.base import Context, ToolError

MODEL_ID = "ddcolor"
SIZE = 512


def not_installed_reason() -> str:
    if catalog.get(MODEL_ID) is None:
        return (
            f"model {MODEL_ID} is not in this server's model catalog (no DDColor file with a "
            "published sha256 and size is pinned yet)"
        )
    return f"model {MODEL_ID} is not installed (manage.py models install {MODEL_ID})"


def session(ctx: Context) -> onnx_session.Session:
    """DDColor's cached session; 503 MODEL_NOT_INSTALLED when it is missing."""
    spec = catalog.get(MODEL_ID)
    if spec is None:
        raise ToolError(
            "MODEL_NOT_INSTALLED", f"Colourising needs DDColor: {not_installed_reason()}", 503
        )
    return onnx_session.for_model(ctx, spec, spec.files[0])


def colorize(ctx: Context, rgb: np.ndarray, intensity: float) -> tuple[np.ndarray, dict[str, Any]]:
    """(H, W, 3) uint8 RGB -> colourised uint8 RGB, and the run's description."""
    cv2 = arrays.cv2()
    model = session(ctx)
    height, width = rgb.shape[:2]
    pixels = rgb.astype(np.float32) / 255.0
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2Lab)
    small = cv2.resize(pixels, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    lightness = cv2.cvtColor(small, cv2.COLOR_RGB2Lab)[..., :1]
    grey_lab = np.concatenate([lightness, np.zeros((SIZE, SIZE, 2), np.float32)], axis=2)
    grey_rgb = cv2.cvtColor(grey_lab, cv2.COLOR_Lab2RGB).transpose(2, 0, 1)[None]
    ctx.check_cancelled()
    name = model.input_names[0]
    ab = model.run({name: np.ascontiguousarray(grey_rgb, dtype=np.float32)})[0][0]
    ab = cv2.resize(ab.transpose(1, 2, 0), (width, height), interpolation=cv2.INTER_LINEAR)
    lab[..., 1:] += (ab - lab[..., 1:]) * intensity
    out = cv2.cvtColor(lab, cv2.COLOR_Lab2RGB)
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8), model.describe()
