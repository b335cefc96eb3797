"""Video upscaling: every frame through an upscale model, audio and subtitles copied.

Input: MP4, MOV, MKV, WebM, or an animated GIF (FFmpeg through PyAV decodes them; the
PyAV wheel carries FFmpeg, so nothing is installed beside it). Output: H.264 (default),
H.265, VP9 or AV1 (what this FFmpeg's encoders allow: `tools.video.codecs`), 8-bit 4:2:0,
in the input's container where it can hold the codec and the kept streams, else MKV.

Settings: `model` (default realesr-animevideov3, made for video frames, native x2/x3/x4;
any upscale model may be chosen), `scale` 2/3/4 or `targetShortEdge` (the output's short
side in px), `denoise` (the upscale tool's classic denoise first), `codec`, `crf`
(quality: lower is better; default per codec), `preset` (encoder speed), `container`,
`keepAudio` / `keepSubtitles` (default yes: copied, not re-encoded; chapters too),
`startTime` / `endTime` (seconds: a clip), `preview` (a 2-second clip at startTime, else
mid-video, plus a before/after still: a ZIP), `tileSize`.

Kept: frame timestamps (variable frame rate included), time base, frame rate, colour tags
(matrix, primaries, transfer, range), sample aspect ratio, display rotation, language
and title tags. Limits, from the container's header before any frame is decoded:
MAX_UPLOAD_SIZE_MB (413), MAX_VIDEO_SECONDS, MAX_VIDEO_PIXELS per output frame (400); not
a video, a corrupt file or an undecodable codec: 422.

How: frames stream one batch at a time (memory does not grow with the video's length)
into segments of VIDEO_SEGMENT_SECONDS on disk, each by a fresh encoder; a retry after a
worker's death resumes after the last finished segment (`tools.video.segments`). Progress
reads `frame 1200/14400 (3.2 fps, ETA 1h02m)`; a cancel stops within one batch.
Speed on a CPU: realesr-animevideov3 x2 runs about 0.75 s for a 256² frame (2 cores):
about 2.5 s a 480p frame, so a minute of 480p at 24 fps takes about an hour; a GPU worker
batches frames (bench/video.py measures both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from tools.base import Context, Output, OutputKind, Source, Tool, ToolSettings
from tools.upscale import _denoise_level

MODELS = (
    "realesr-animevideov3",
    "realesrgan-x4plus",
    "realesrgan-x4plus-anime",
    "realcugan-se-conservative",
)
# Inputs besides video containers: FFmpeg decodes animated GIF too.
ANIMATED = frozenset({"gif"})
SEGMENTS_FOLDER = "video-segments"


class Settings(ToolSettings):
    """Model and size, encoder and container, streams kept, time range, preview."""

    model: Literal[
        "realesr-animevideov3",
        "realesrgan-x4plus",
        "realesrgan-x4plus-anime",
        "realcugan-se-conservative",
    ] = Field("realesr-animevideov3", description="Upscale model (catalog id).")
    scale: Literal[2, 3, 4] = Field(2, description="Enlarge 2, 3 or 4 times.")
    targetShortEdge: int | None = Field(
        None, ge=16, le=4320, description="Output short side in px (e.g. 1080), instead of scale."
    )
    denoise: Annotated[float, BeforeValidator(_denoise_level)] = Field(
        0, ge=0, le=1, description="Remove noise first (OpenCV), 0..1; true means 0.5."
    )
    codec: Literal["h264", "h265", "vp9", "av1"] = Field("h264", description="Video codec.")
    crf: int | None = Field(
        None,
        ge=0,
        le=63,
        title="Quality (CRF)",
        description="Quality, lower is better (default per codec).",
    )
    preset: Literal["fast", "medium", "slow"] = Field("medium", description="Encoder speed.")
    container: Literal["auto", "mp4", "mkv", "webm", "mov"] = Field(
        "auto", description="auto: the input's when it can hold everything, else mkv."
    )
    keepAudio: bool = Field(True, description="Copy the audio streams.")
    keepSubtitles: bool = Field(True, description="Copy the subtitle streams.")
    startTime: float | None = Field(None, ge=0, description="Start of a clip, in seconds.")
    endTime: float | None = Field(None, gt=0, description="End of a clip, in seconds.")
    preview: bool = Field(
        False,
        description="A 2-second clip (at startTime, else mid-video) and a before/after still.",
    )
    tileSize: int = Field(0, ge=0, le=1024, description="Tile edge in px (32..1024); 0 picks one.")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if 0 < self.tileSize < 32:
            raise ValueError("tileSize: 0 (automatic) or 32..1024")
        if self.targetShortEdge is not None and self.targetShortEdge % 2:
            raise ValueError("targetShortEdge: must be even (4:2:0 video)")
        start, end = self.startTime, self.endTime
        if start is not None and end is not None and end <= start:
            raise ValueError("endTime: must be after startTime")
        return self


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Upscale the video (or a clip, or a preview); see the module docstring. The engines
    (PyAV, OpenCV) load with the first video, not with the catalog: they cost every
    process that lists the tools about 55 MiB (issue 14)."""
    from tools.video import upscale_run

    return upscale_run.run(inputs, settings, ctx)


TOOL = Tool(
    id="video-upscale",
    name="Video Upscaling",
    category="ai",
    description="Upscale a video (MP4, MKV, WebM, MOV, animated GIF) frame by frame with "
    "Real-ESRGAN or Real-CUGAN; audio, subtitles and chapters copied; resumable.",
    settings=Settings,
    run=run,
    output=OutputKind.DOCUMENT,
    device="gpu",
    models=MODELS,
    inline=False,
    takes_video=True,
)
