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

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import av
import cv2
import numpy as np
import pyvips
from pydantic import BeforeValidator, Field, model_validator

from tools import arrays
from tools.ai.catalog import catalog
from tools.ai.credit import Run, credit
from tools.base import Context, Output, OutputKind, Source, Tool, ToolError, ToolSettings
from tools.upscale import _denoise_level
from tools.video import enlarge, formats, limits, mux, pipeline, plan, probe
from tools.video.segments import SegmentStore, work_key

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
    """Upscale the video (or a clip, or a preview); see the module docstring."""
    source = inputs[0]
    if source.format not in formats.VIDEO_FORMATS | ANIMATED:
        raise ToolError(
            "NOT_A_VIDEO", f"{source.name} is a {source.format} image, not a video", 422
        )
    ctx.progress(1, "reading the video header")
    current = limits.current()
    info = probe.inspect(source, current)
    scales = catalog()[settings.model].scales
    planned = plan.make_plan(info, settings, current, scales)
    enlarger = enlarge.load(ctx, settings.model, planned.native, settings.tileSize)
    still: list[tuple[np.ndarray, np.ndarray]] = []
    job = pipeline.Job(
        source,
        info,
        planned,
        enlarger,
        _store(ctx, source, settings, enlarger),
        current,
        settings.denoise,
        (lambda before, after: still.append((before, after))) if settings.preview else None,
    )
    done = pipeline.encode_all(job, ctx)
    ctx.progress(96, f"writing the {planned.container} file")
    video = ctx.scratch_path(f"video-{id(job):x}{formats.EXTENSIONS[planned.container]}")
    muxed = mux.write(source, info, planned, job.store, video)
    job.store.discard()
    extras = _extras(info, planned, enlarger, done, muxed)
    output = _output(video, planned, extras, still, ctx)
    return credit(output, _runs(enlarger, settings, planned, info))


def _store(
    ctx: Context, source: Source, settings: Settings, enlarger: enlarge.Enlarger
) -> SegmentStore:
    """The job's segment folder, keyed on what the segments depend on."""
    key = work_key(
        source.path,
        settings.model_dump(),
        {"model": enlarger.described.get("modelSha256"), "ffmpeg": av.ffmpeg_version_info},
    )
    return SegmentStore(ctx.scratch_dir / SEGMENTS_FOLDER, key)


def _extras(
    info: probe.VideoInfo,
    planned: plan.Plan,
    enlarger: enlarge.Enlarger,
    done: pipeline.Run,
    muxed: mux.Muxed,
) -> dict[str, Any]:
    extras: dict[str, Any] = {
        "input": info.describe(),
        "width": planned.width,
        "height": planned.height,
        "model": enlarger.model_id,
        "nativeScale": enlarger.native,
        "batch": enlarger.batch,
        "tileSize": enlarger.tile,
        "codec": planned.codec.name,
        "encoder": planned.codec.encoder,
        "crf": int(planned.options["crf"]),
        "container": planned.container,
        "frames": done.encoded + done.resumed,
        "fps": round(done.fps, 2),
        "audioStreams": muxed.audio,
        "subtitleStreams": muxed.subtitles,
        "chapters": muxed.chapters,
    }
    if done.resumed:
        extras["resumedAfterFrames"] = done.resumed
    if not planned.window.whole:
        extras["window"] = {"start": planned.window.start, "end": planned.window.end}
    notes = list(planned.notes)
    if enlarger.fallback:
        notes.append(f"asked for the GPU: {enlarger.fallback}")
    if info.pix_fmt not in ("yuv420p", "yuvj420p", "pal8", "bgra", "rgb24"):
        notes.append(f"{info.pix_fmt} input is upscaled and written as 8-bit 4:2:0 (yuv420p)")
    if notes:
        extras["notes"] = notes
    return extras


def _output(
    video: Path,
    planned: plan.Plan,
    extras: dict[str, Any],
    still: list[tuple[np.ndarray, np.ndarray]],
    ctx: Context,
) -> Output:
    """The video; for a preview, a ZIP of the clip, the before/after still and the facts."""
    name = f"video{formats.EXTENSIONS[planned.container]}"
    if not still:
        media = formats.MEDIA_TYPES[planned.container]
        return Output(
            OutputKind.DOCUMENT, path=video, filename=name, media_type=media, extras=extras
        )
    archive = ctx.scratch_path(f"preview-{video.stem}.zip")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(video, f"preview{formats.EXTENSIONS[planned.container]}")
        zf.writestr("before-after.png", _before_after(*still[0], planned))
        zf.writestr("info.json", json.dumps(extras, indent=2))
    video.unlink()
    return Output(
        OutputKind.DOCUMENT,
        path=archive,
        filename="preview.zip",
        media_type="application/zip",
        extras={**extras, "preview": True},
    )


def _before_after(before: np.ndarray, after: np.ndarray, planned: plan.Plan) -> bytes:
    """The first frame: left, the input enlarged by Lanczos; right, the model's result."""
    plain = cv2.resize(before, (planned.width, planned.height), interpolation=cv2.INTER_LANCZOS4)
    divider = np.full((planned.height, 4, 3), 255, np.uint8)
    side_by_side = np.concatenate([plain, divider, after], axis=1)
    image: pyvips.Image = arrays.from_array(side_by_side, "srgb")
    return bytes(image.write_to_buffer(".png"))


def _runs(
    enlarger: enlarge.Enlarger, settings: Settings, planned: plan.Plan, info: probe.VideoInfo
) -> list[Run | dict[str, Any]]:
    runs: list[Run | dict[str, Any]] = [
        Run(engine=f"FFmpeg {av.ffmpeg_version_info} (PyAV {av.__version__}) decoding {info.codec}")
    ]
    if settings.denoise > 0:
        runs.append(Run(engine=f"OpenCV {cv2.__version__} non-local means"))
    runs.append(enlarger.described)
    native = (info.width * enlarger.native, info.height * enlarger.native)
    if abs(native[0] - planned.width) > 1 or abs(native[1] - planned.height) > 1:
        runs.append(
            Run(engine=f"OpenCV {cv2.__version__} resize to {planned.width}x{planned.height}")
        )
    runs.append(Run(engine=f"FFmpeg {planned.codec.encoder} ({planned.container})"))
    return runs


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
