"""Decoding frames one at a time, and the RGB <-> YUV conversions around the network.

Memory: one decoded frame at a time leaves here (plus what FFmpeg's decoder keeps for
reference frames), whatever the video's length.

Positions: a window's start, or the last frame a previous attempt finished, is reached
by seeking to the keyframe at or before it and decoding forward, skipping what comes
before. If the seek lands after the target (an index that lies), decoding restarts from
the beginning instead: slower, never wrong. Times are counted from the video stream's
first timestamp, so `startTime` 0 is the first frame whatever the container's offsets.

Colour: frames are converted to RGB with their own matrix (BT.709, BT.601...) and range
(limited or full), and back with the same ones, so colours survive the round trip; the
output stream carries the input's tags (`codecs.configure`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from tools.base import ToolError
from tools.video.limits import Limits
from tools.video.plan import Window
from tools.video.probe import SWS_COLORSPACES, Colour, VideoInfo, open_input, reason


@dataclass(frozen=True)
class Position:
    """Where decoding starts: after the frame with pts `after` (a resume), and within
    `window`."""

    window: Window
    after: int | None = None


def decoded(info: VideoInfo, position: Position, limits: Limits, source: Any) -> Iterator[Any]:
    """The `av.VideoFrame`s to upscale, in order, with pts set (in `info.time_base`)."""
    with open_input(source) as container:
        stream = container.streams.video[0]
        origin = stream.start_time or 0
        target = _target(position, origin, info.time_base)
        if target is not None:
            container.seek(target, stream=stream, backward=True)
        frames = _frames(container, stream, info)
        first = next(frames, None)
        if first is not None and target is not None and first.pts > target:
            container.seek(origin, stream=stream, backward=True)  # overshot: from the top
            frames = _frames(container, stream, info)
            first = next(frames, None)
        if first is None:
            return
        pending: Iterator[Any] = _chain(first, frames)
        yield from _selected(pending, position, origin, info.time_base, limits, info.name)


def _target(position: Position, origin: int, time_base: Fraction) -> int | None:
    if position.after is not None:
        return position.after
    if position.window.start:
        return origin + int(position.window.start / time_base)
    return None


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _frames(container: Any, stream: Any, info: VideoInfo) -> Iterator[Any]:
    """Decoded frames with a pts (synthesised from the frame rate where one is missing)."""
    step = max(1, round(1 / (info.rate * info.time_base)))
    last: int | None = None
    decoded = 0
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                if frame.pts is None:
                    frame.pts = 0 if last is None else last + step
                last = frame.pts
                decoded += 1
                yield frame
    except av.FFmpegError as exc:
        raise ToolError(
            "CORRUPT_VIDEO",
            f"{info.name}: the video stream could not be decoded after frame {decoded}: "
            f"{reason(exc)}",
            422,
        ) from exc


def _selected(
    frames: Iterator[Any],
    position: Position,
    origin: int,
    time_base: Fraction,
    limits: Limits,
    name: str,
) -> Iterator[Any]:
    window = position.window
    for frame in frames:
        if position.after is not None and frame.pts <= position.after:
            continue
        seconds = float((frame.pts - origin) * time_base)
        if window.start is not None and seconds < window.start - 1e-6:
            continue
        if window.end is not None and seconds >= window.end - 1e-6:
            return
        if seconds > limits.max_seconds + 1:  # a header that understated the duration
            raise ToolError(
                "VIDEO_TOO_LONG",
                f"{name} runs past the {limits.max_seconds} s limit (MAX_VIDEO_SECONDS)",
                400,
            )
        yield frame


def to_rgb(frame: Any) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a decoded frame, with the frame's own matrix and range."""
    space = frame.colorspace if frame.colorspace in SWS_COLORSPACES else None
    rgb = frame.reformat(
        format="rgb24", src_colorspace=space, src_color_range=frame.color_range or None
    )
    return np.ascontiguousarray(rgb.to_ndarray())


def from_rgb(rgb: np.ndarray, colour: Colour, pts: int, time_base: Fraction) -> Any:
    """A yuv420p `av.VideoFrame` of `rgb` with the input's matrix and range, at `pts`."""
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    space = colour.space if colour.space in SWS_COLORSPACES else None
    out = frame.reformat(
        format="yuv420p", dst_colorspace=space, dst_color_range=colour.range or None
    )
    out.pts, out.time_base = pts, time_base
    return out
