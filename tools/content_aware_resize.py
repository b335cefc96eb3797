"""Content-aware resize by seam carving (Avidan & Shamir, 2007): shrink an image by
removing connected paths of low-energy pixels, so objects keep their shape while flat
areas (sky, walls, background) give way.

Energy is the Sobel gradient magnitude (OpenCV) of the luma after a Gaussian blur of
`blurRadius` px (0: none), with gradients under `sobelThreshold` (8-bit levels) counted
as flat. Seams are found by dynamic programming over the rows, vectorised with numpy.
Speed: seams are taken out of the energy map one by one and out of the pixels in
batches (through a map of original column positions), and the energy is recomputed
from the pixels after each batch of 1/16 of the seams; the small approximation in
between is the usual one. 800x600 -> 600x600 takes about a second on one core.

Only shrinking: a `width`/`height` over the original is refused (enlarging by seam
insertion is not implemented). Both given: width is carved first, then height.
`square` carves both sides to the shorter one (width/height are then ignored).
`protectFaces` finds faces first (MediaPipe's full-range face detector, through
tools.ai.mediapipe_tasks; score 0.5 and up) and gives each face box, grown by a tenth,
an energy no seam can beat elsewhere (400 x the seam's length per pixel: more than any
path of Sobel energy), so seams pass through a face only when nothing else is left. The
boxes travel with the pixels as an extra band, so they stay put batch after batch; the
detector is credited on the output. Without faces the carving is the same as without
the option. Alpha is carved with the pixels; 16-bit stays 16-bit.
Limits: the first page/frame only; time grows with pixels x seams (see bench/tools.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import Field

from tools import arrays, colour, imaging
from tools.ai import mediapipe_tasks
from tools.ai.credit import Run, credit
from tools.base import Context, Output, Source, Tool, ToolError
from tools.fields import ImageOutputSettings

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
_BATCHES = 16  # energy recomputations per direction
_ENGINE = "seam carving (Avidan & Shamir 2007), numpy; OpenCV {} Sobel energy"
_FACE_MARGIN = 0.1  # each face box grows by this fraction on every side
_FACE_ENERGY = 400  # per pixel and per row of the seam: above any Sobel path (max ~360)


class Settings(ImageOutputSettings):
    """Target size (at most the original's), energy smoothing and threshold."""

    width: int | None = Field(None, ge=1, le=16383, description="Target width, px.")
    height: int | None = Field(None, ge=1, le=16383, description="Target height, px.")
    square: bool = Field(False, description="Carve both sides to the shorter one.")
    blurRadius: float = Field(1.0, ge=0, le=20, description="Blur before the Sobel, px.")
    sobelThreshold: float = Field(
        2, ge=0, le=255, description="Gradients below this (0..255) count as flat."
    )
    protectFaces: bool = Field(False, description="Keep seams out of faces (MediaPipe).")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Carve one image down to the target size; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    ctx.progress(2, "decoding")
    image = imaging.load(source, ctx.max_megapixels)
    width, height = target_size(image.width, image.height, settings)
    parts = colour.split(image)
    pixels = arrays.to_array(colour.join(parts, parts.colour))
    scale = 255 / parts.peak
    runs: list[Run] = []
    protected = settings.protectFaces
    if protected:
        mask, detector, count = face_mask(ctx, pixels)
        runs.append(Run.of(detector))
        pixels = np.concatenate([pixels, mask[..., None].astype(pixels.dtype)], axis=2)
    pixels = carve(pixels, width, settings, ctx, (0, 50), scale, protected)
    turned = carve(pixels.transpose(1, 0, 2), height, settings, ctx, (50, 90), scale, protected)
    pixels = turned.transpose(1, 0, 2)
    if protected:
        pixels = pixels[..., :-1]
    carved = arrays.from_array(pixels, parts.interpretation, like=image)
    output = imaging.write_image(carved, ctx, fmt, source, quality=settings.quality)
    output.extras = {
        "seams": {"vertical": image.width - width, "horizontal": image.height - height}
    }
    if protected:
        output.extras["facesProtected"] = count
    runs += [Run(engine=_ENGINE.format(arrays.cv2().__version__)), Run(engine=output.engine)]
    return credit(output, runs)


def face_mask(ctx: Context, pixels: np.ndarray) -> tuple[np.ndarray, dict[str, object], int]:
    """1 inside each detected face box (grown by _FACE_MARGIN), 0 elsewhere; the
    detector's description; how many faces."""
    ctx.progress(5, "finding faces")
    ctx.check_cancelled()
    rgb = pixels[..., :3]
    rgb8 = arrays.eight_bit(rgb)
    faces, detector = mediapipe_tasks.detect_faces(ctx, np.ascontiguousarray(rgb8), full_range=True)
    height, width = pixels.shape[:2]
    mask = np.zeros((height, width), dtype=np.uint8)
    for face in faces:
        x, y, w, h = face.box
        dx, dy = round(w * _FACE_MARGIN), round(h * _FACE_MARGIN)
        mask[max(y - dy, 0) : y + h + dy, max(x - dx, 0) : x + w + dx] = 1
    return mask, detector, len(faces)


def target_size(width: int, height: int, s: Settings) -> tuple[int, int]:
    """The size to carve to; refuses enlarging and a request with no target."""
    if s.square:
        side = min(width, height)
        return side, side
    if s.width is None and s.height is None:
        raise ToolError("INVALID_SETTINGS", "give width, height or square", 400)
    wanted = (s.width or width, s.height or height)
    if wanted[0] > width or wanted[1] > height:
        raise ToolError(
            "INVALID_SETTINGS",
            f"seam carving only shrinks: {wanted[0]}x{wanted[1]} is larger than the "
            f"image ({width}x{height}); enlarge with resize",
            400,
        )
    return wanted


def carve(
    pixels: np.ndarray,
    width: int,
    s: Settings,
    ctx: Context,
    span: tuple[float, float],
    scale: float,
    protected: bool = False,
) -> np.ndarray:
    """Remove vertical seams from (H, W, C) pixels until they are `width` wide; with
    `protected`, the last band is the face mask (see `energy`)."""
    total = pixels.shape[1] - width
    done = 0
    batch = max(1, -(-total // _BATCHES))
    while done < total:
        ctx.check_cancelled()
        count = min(batch, total - done)
        pixels = _remove_batch(pixels, energy(pixels, s, scale, protected), count)
        done += count
        percent = span[0] + (span[1] - span[0]) * done / total
        ctx.progress(percent, f"removed {done} of {total} seams")
    return pixels


def energy(pixels: np.ndarray, s: Settings, scale: float, protected: bool = False) -> np.ndarray:
    """Sobel gradient magnitude of the (blurred) luma, in 8-bit levels, thresholded; with
    `protected`, plus _FACE_ENERGY x the seam's length where the last band (faces) is 1."""
    cv2 = arrays.cv2()
    bands = 3 if pixels.shape[2] >= 3 else 1
    colour_bands = pixels[..., :bands].astype(np.float32)
    luma = colour_bands @ _LUMA if bands == 3 else colour_bands[..., 0]
    luma = np.ascontiguousarray(luma * scale)
    if s.blurRadius > 0:
        luma = cv2.GaussianBlur(luma, (0, 0), s.blurRadius)
    gradient = cv2.magnitude(cv2.Sobel(luma, -1, 1, 0), cv2.Sobel(luma, -1, 0, 1)) / 4
    gradient[gradient < s.sobelThreshold] = 0
    if protected:
        faces = pixels[..., -1].astype(np.float32)
        gradient += faces * np.float32(_FACE_ENERGY * pixels.shape[0])
    return gradient


def _remove_batch(pixels: np.ndarray, energy_map: np.ndarray, count: int) -> np.ndarray:
    """Find `count` seams one by one on the energy map, then drop them from the pixels."""
    height, width = energy_map.shape
    columns = np.broadcast_to(np.arange(width, dtype=np.int32), (height, width))
    rows = np.arange(height)
    for _ in range(count):
        seam = _seam(energy_map)
        keep = np.ones(energy_map.shape, dtype=bool)
        keep[rows, seam] = False
        new_shape = (height, energy_map.shape[1] - 1)
        energy_map = energy_map[keep].reshape(new_shape)
        columns = columns[keep].reshape(new_shape)
    return np.take_along_axis(pixels, columns[..., None], axis=1)


def _seam(energy_map: np.ndarray) -> np.ndarray:
    """The column per row of the connected top-to-bottom path of least total energy."""
    height, width = energy_map.shape
    cost = energy_map.copy()
    for row in range(1, height):
        above = cost[row - 1]
        best = above.copy()
        if width > 1:
            np.minimum(best[1:], above[:-1], out=best[1:])
            np.minimum(best[:-1], above[1:], out=best[:-1])
        cost[row] += best
    seam = np.empty(height, dtype=np.int64)
    seam[-1] = column = int(np.argmin(cost[-1]))
    for row in range(height - 2, -1, -1):
        low = max(column - 1, 0)
        column = low + int(np.argmin(cost[row, low : column + 2]))
        seam[row] = column
    return seam


TOOL = Tool(
    id="content-aware-resize",
    name="Content-Aware Resize",
    category="enhancement",
    description="Shrink an image by seam carving: low-energy paths go, objects keep their "
    "shape; width, height or square, alpha kept.",
    settings=Settings,
    run=run,
    models=(mediapipe_tasks.FULL_RANGE,),
    needs=(),  # only protectFaces uses the detector
    inline=False,
)
