"""What a video is, from its container's header, and the limits checked on it before work.

`inspect` opens the file with FFmpeg (PyAV) and reads only the header and stream
parameters: size, duration, frame rate, frame count (the container's, else duration x
rate), colour tags, and which audio, subtitle and attachment streams there are. It
refuses, before any frame is decoded:

- a file over MAX_UPLOAD_SIZE_MB (413 FILE_TOO_LARGE; an upload that big never gets here,
  a library file might),
- a file FFmpeg cannot open (422 CORRUPT_VIDEO), one without a video stream or with a
  single frame (422 NOT_A_VIDEO), a codec this FFmpeg cannot decode (422 UNSUPPORTED_CODEC),
- a duration over MAX_VIDEO_SECONDS (400 VIDEO_TOO_LONG).

A header may lie about the duration: the decoder stops at MAX_VIDEO_SECONDS as well
(`frames.decoded`). The output size limit (MAX_VIDEO_PIXELS) is the plan's (`plan.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from tools.base import Source, ToolError
from tools.video.limits import Limits

# Colour spaces swscale knows by their AVColorSpace number (bt709, fcc, bt470bg, smpte170m,
# smpte240m, bt2020nc, bt2020c); for others (unspecified...) it uses its default, BT.601.
SWS_COLORSPACES = frozenset({1, 4, 5, 6, 7, 9, 10})


@dataclass(frozen=True)
class Colour:
    """The colour tags of the video stream, written unchanged on the output."""

    primaries: int
    trc: int
    space: int
    range: int


@dataclass(frozen=True)
class VideoInfo:
    """The header facts of an input video. Times are in seconds; `time_base` is the video
    stream's, in which its frames' timestamps (and the output's) are counted."""

    path: Path
    name: str
    container: str
    codec: str
    width: int
    height: int
    duration: float
    frames: int
    rate: Fraction
    time_base: Fraction
    pix_fmt: str
    colour: Colour
    sample_aspect: Fraction | None
    kept: tuple[tuple[str, str], ...]  # (audio|subtitle, codec) of the streams that can be copied

    def describe(self) -> dict[str, Any]:
        """The input, as the result's extras tell it."""
        return {
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "duration": round(self.duration, 3),
            "frames": self.frames,
            "fps": round(float(self.rate), 3),
            "pixelFormat": self.pix_fmt,
            "audioStreams": sum(kind == "audio" for kind, _ in self.kept),
            "subtitleStreams": sum(kind == "subtitle" for kind, _ in self.kept),
        }

    def codecs_kept(self, audio: bool, subtitles: bool) -> list[str]:
        """The codecs of the streams to copy, with audio and/or subtitles kept."""
        wanted = {"audio"} if audio else set()
        wanted |= {"subtitle"} if subtitles else set()
        return [codec for kind, codec in self.kept if kind in wanted]


def open_input(source: Source) -> Any:
    """The opened container (an `av.InputContainer`), or 422 naming FFmpeg's reason."""
    try:
        return av.open(str(source.path), metadata_errors="replace")
    except av.FFmpegError as exc:
        raise ToolError(
            "CORRUPT_VIDEO", f"{source.name} could not be read as a video: {reason(exc)}", 422
        ) from exc


def reason(exc: Exception) -> str:
    """FFmpeg's message without the file name PyAV appends."""
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(": '")[0].strip() or type(exc).__name__


def inspect(source: Source, limits: Limits) -> VideoInfo:
    """The video's header facts; the refusals listed in the module docstring."""
    if source.size > limits.max_upload_mb * 1024 * 1024:
        raise ToolError(
            "FILE_TOO_LARGE",
            f"{source.name} is {source.size / 1048576:.0f} MB, over the "
            f"{limits.max_upload_mb} MB limit (MAX_UPLOAD_SIZE_MB)",
            413,
        )
    with open_input(source) as container:
        info = _read(source, container)
    if info.duration > limits.max_seconds:
        raise ToolError(
            "VIDEO_TOO_LONG",
            f"{source.name} lasts {info.duration:.1f} s, over the {limits.max_seconds} s "
            "limit (MAX_VIDEO_SECONDS): send a shorter video or a startTime/endTime range",
            400,
        )
    return info


def _read(source: Source, container: Any) -> VideoInfo:
    if not container.streams.video:
        raise ToolError("NOT_A_VIDEO", f"{source.name} has no video stream", 422)
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None or not ctx.width or not ctx.height:
        codec = stream.codec_context.name if stream.codec_context else "an unknown codec"
        raise ToolError(
            "UNSUPPORTED_CODEC", f"{source.name}: this FFmpeg cannot decode {codec}", 422
        )
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate or Fraction(25)
    duration = _duration(container, stream)
    frames = stream.frames or round(duration * rate)
    if frames == 1:
        raise ToolError(
            "NOT_A_VIDEO", f"{source.name} holds a single image: use upscale for stills", 422
        )
    return VideoInfo(
        path=source.path,
        name=source.name,
        container=source.format,
        codec=ctx.codec.canonical_name,
        width=ctx.width,
        height=ctx.height,
        duration=duration,
        frames=frames,
        rate=Fraction(rate),
        time_base=stream.time_base or Fraction(1, 90000),
        pix_fmt=ctx.pix_fmt or "",
        colour=Colour(ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range),
        sample_aspect=ctx.sample_aspect_ratio,
        kept=tuple((s.type, copied_codec(s)) for s in copied_streams(container)),
    )


def copied_streams(container: Any) -> list[Any]:
    """The audio and subtitle streams, in file order, that a copy can take: those whose
    codec FFmpeg knows by name (a stream it cannot even name cannot be muxed)."""
    found = [*container.streams.audio, *container.streams.subtitles]
    return sorted((s for s in found if copied_codec(s)), key=lambda s: s.index)


def copied_codec(stream: Any) -> str:
    ctx = stream.codec_context
    return str(ctx.codec.canonical_name) if ctx is not None and ctx.codec else ""


def _duration(container: Any, stream: Any) -> float:
    """Seconds: the video stream's, else the container's, else 0 (unknown)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0
