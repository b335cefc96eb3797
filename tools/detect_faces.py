"""Detect faces: where the faces of an image are, as JSON (MediaPipe's face detector).

The same detector blur-faces and enhance-faces use (`tools.ai.mediapipe_tasks`): short
range by default (portraits, faces up to about 2 m away), full range with `fullRange`
(groups and distant faces; big images are also searched in tiles). `sensitivity` 0..1
sets the detector's minimum score exactly as blur-faces does (0 -> 0.8, 0.5 -> 0.5,
1 -> 0.2): higher finds more faces, and more false ones.

Each face is `{x, y, width, height, score, keypoints}` in pixels of the upright image
(EXIF orientation applied), best score first; `keypoints` are MediaPipe's six points
(right/left eye, nose tip, mouth centre, right/left ear tragion: the person's own right
and left). No face is not an error: `faces` is empty and `count` 0. Grey, CMYK and
16-bit images are looked at as 8-bit sRGB; alpha is ignored.

Limits: the first page/frame only; faces in profile, turned far away, or under ~20 px
(short range) are missed; the detector sees at most 1280 px on the longest side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from tools import imaging
from tools.ai import mediapipe_tasks, rgb8
from tools.ai.credit import Run, credit
from tools.ai.mediapipe_tasks import Face
from tools.base import Context, Output, OutputKind, Source, Tool, ToolSettings
from tools.blur_faces import min_score


class Settings(ToolSettings):
    """How hard to look for faces, and with which detector."""

    sensitivity: float = Field(
        0.5, ge=0, le=1, description="Higher finds more faces (and more false ones)."
    )
    fullRange: bool = Field(False, description="Full-range detector: groups, distant faces.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Find every face and return the boxes, scores and keypoints; see the module docstring."""
    source = inputs[0]
    ctx.progress(5, "decoding")
    work = rgb8.load(source, ctx)
    ctx.progress(30, "finding faces")
    ctx.check_cancelled()
    faces, detector = mediapipe_tasks.detect_faces(
        ctx,
        work.rgb8,
        min_score=min_score(settings.sensitivity),
        full_range=settings.fullRange,
    )
    width, height = work.size
    data = {
        "faces": [describe(face) for face in faces],
        "count": len(faces),
        "width": width,
        "height": height,
    }
    ctx.progress(100, f"{len(faces)} face(s) found")
    output = Output.json(data, engine=imaging.engine_name(source.format))
    return credit(output, [Run(engine=output.engine), Run.of(detector)])


def describe(face: Face) -> dict[str, Any]:
    """One face as JSON: its box, score (3 decimals) and keypoints (1 decimal, px)."""
    x, y, w, h = face.box
    return {
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "score": round(face.score, 3),
        "keypoints": {
            name: {"x": round(px, 1), "y": round(py, 1)}
            for name, (px, py) in face.keypoints.items()
        },
    }


TOOL = Tool(
    id="detect-faces",
    name="Detect Faces",
    category="ai",
    description="Find the faces in an image (MediaPipe): boxes, scores and eye, nose, "
    "mouth and ear keypoints as JSON.",
    settings=Settings,
    run=run,
    output=OutputKind.JSON,
    models=(mediapipe_tasks.SHORT_RANGE, mediapipe_tasks.FULL_RANGE),
    needs=((mediapipe_tasks.SHORT_RANGE,),),  # full range only with fullRange
    inline=False,
)
