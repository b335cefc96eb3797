"""The video-upscale tool's run (tools/video_upscale.py holds its settings and catalog
entry): probe, plan, enlarge frame by frame, encode in segments, mux, credit."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import cv2
import numpy as np
import pyvips

from tools import arrays
from tools.ai.catalog import catalog
from tools.ai.credit import Run, credit
from tools.base import Context, Output, OutputKind, Source, ToolError
from tools.video import enlarge, formats, limits, mux, pipeline, plan, probe
from tools.video.segments import SegmentStore, work_key
from tools.video_upscale import ANIMATED, SEGMENTS_FOLDER

if TYPE_CHECKING:
    from tools.video_upscale import Settings


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
