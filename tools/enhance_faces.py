"""Face enhancement: find the faces, restore each with GFPGAN v1.4 or CodeFormer.

Faces are found by MediaPipe's short-range face detector (tools.ai.mediapipe_tasks;
`sensitivity` 0..1 sets its minimum score, 1 - sensitivity, within 0.05..0.95), and only
the face nearest the image's centre with `centerFace`. Each face is aligned to the FFHQ
512 template from the detector's eye, nose and mouth keypoints, restored by the chosen
model, and pasted back feathered, blended over the original by `strength` (0 = no change,
1 = the model's face): see tools.ai.face_restore. `fidelity` is CodeFormer's weight
(0 = strongest restoration, 1 = closest to the input face); GFPGAN has none.

The models are downloads (catalog `gfpgan-v1.4`, Apache-2.0; `codeformer`, S-Lab licence,
non-commercial): when the chosen one is not installed the answer is 503
MODEL_NOT_INSTALLED with the command that installs it. An image without a face is 422
NO_FACE_FOUND. Alpha is kept; a 16-bit image keeps its depth outside the faces.
Limits: the first page/frame; faces under ~20 px or turned far from the camera are not
found; every face is restored at 512x512, so a small face gains detail from the model,
not from the photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field

from tools import imaging
from tools.ai import face_restore, mediapipe_tasks, rgb8
from tools.ai.credit import Run, credit
from tools.ai.mediapipe_tasks import Face
from tools.base import Context, Output, Source, Tool, ToolError
from tools.fields import ImageOutputSettings


class Settings(ImageOutputSettings):
    """Which restoration model, how strongly, which faces."""

    model: Literal["gfpgan", "codeformer"] = Field(
        "gfpgan", description="gfpgan (GFPGAN v1.4) or codeformer (non-commercial licence)."
    )
    strength: float = Field(0.8, ge=0, le=1, description="Blend of the restored face, 0..1.")
    sensitivity: float = Field(0.5, ge=0, le=1, description="Higher finds fainter faces.")
    centerFace: bool = Field(False, description="Only the face nearest the centre.")
    fidelity: float = Field(
        0.5, ge=0, le=1, description="CodeFormer only: 0 restores most, 1 keeps most."
    )


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Detect, align, restore and paste back every face; see the module docstring."""
    source = inputs[0]
    fmt = imaging.output_format(settings.format, source.format)
    model_id = face_restore.MODELS[settings.model]
    model = face_restore.session(ctx, model_id)  # 503 before any work when it is missing
    ctx.progress(5, "decoding")
    work = rgb8.load(source, ctx)
    ctx.progress(15, "finding faces")
    result, runs, count = enhance(
        ctx, work.rgb8, model,
        strength=settings.strength, fidelity=settings.fidelity,
        sensitivity=settings.sensitivity, center_only=settings.centerFace,
    )  # fmt: skip
    if count == 0:
        raise ToolError("NO_FACE_FOUND", "No face was found in the image", 422)
    output = rgb8.write(work, result, ctx, fmt, source, settings.quality)
    output.extras = {"faces": count, "restoreModel": model_id}
    return credit(output, [*runs, Run(engine=output.engine)])


def enhance(
    ctx: Context,
    rgb: np.ndarray,
    model: Any,
    *,
    strength: float,
    fidelity: float,
    sensitivity: float,
    center_only: bool = False,
) -> tuple[np.ndarray, list[Run], int]:
    """Restore the faces of an 8-bit RGB array: (result, runs, number of faces).

    With no face the image comes back unchanged and only the detector's run is listed.
    """
    min_score = min(0.95, max(0.05, 1.0 - sensitivity))
    faces, detector = mediapipe_tasks.detect_faces(ctx, rgb, min_score=min_score)
    if center_only and faces:
        faces = [nearest_centre(faces, rgb.shape[1], rgb.shape[0])]
    runs = [Run.of(detector)]
    if not faces:
        return rgb, runs, 0

    def step(done: int, total: int) -> None:
        ctx.progress(20 + 50 * done / total, f"restoring face {done + 1} of {total}")

    result, described = face_restore.restore_faces(
        ctx, rgb, faces, model, strength=strength, fidelity=fidelity, progress=step
    )
    return result, [*runs, Run.of(described)], len(faces)


def nearest_centre(faces: Sequence[Face], width: int, height: int) -> Face:
    def distance(face: Face) -> float:
        x, y, w, h = face.box
        return float(np.hypot(x + w / 2 - width / 2, y + h / 2 - height / 2))

    return min(faces, key=distance)


TOOL = Tool(
    id="enhance-faces",
    name="Face Enhancement",
    category="ai",
    description="Restore blurred or damaged faces with GFPGAN v1.4 or CodeFormer (ONNX): "
    "MediaPipe finds them, each is aligned, restored and blended back.",
    settings=Settings,
    run=run,
    models=(*face_restore.MODELS.values(), mediapipe_tasks.SHORT_RANGE),
    needs=(tuple(face_restore.MODELS.values()), (mediapipe_tasks.SHORT_RANGE,)),
    inline=False,
)
