"""What a video job will make, decided before any frame: size, model scale, time window,
codec and container. Refusals here cost nothing: OUTPUT_TOO_LARGE (MAX_VIDEO_PIXELS),
a codec FFmpeg lacks, a container that cannot hold the codec, a window past the end.

Output size: `scale` times the input, or `targetShortEdge` (the short side in pixels, the
other in proportion). The model runs at its native scale nearest above what is needed (a
model without it runs at its largest), then OpenCV resizes to the exact size. 4:2:0 video
needs even sides: an odd one loses its last pixel row or column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.base import ToolError
from tools.video import codecs
from tools.video.limits import Limits
from tools.video.probe import VideoInfo

PREVIEW_SECONDS = 2.0
MIN_SIDE = 16


@dataclass(frozen=True)
class Window:
    """The part of the input to upscale, in seconds of the input's timeline (None: all)."""

    start: float | None = None
    end: float | None = None

    @property
    def whole(self) -> bool:
        return self.start is None and self.end is None

    def frames(self, info: VideoInfo) -> int:
        """About how many frames the window holds (for progress)."""
        if self.whole:
            return info.frames
        end = self.end if self.end is not None else info.duration
        return max(1, round((end - (self.start or 0.0)) * float(info.rate)))


@dataclass(frozen=True)
class Plan:
    """Everything decided up front; see the module docstring."""

    width: int
    height: int
    native: int
    window: Window
    codec: codecs.Codec
    options: dict[str, str]
    container: str
    keep_audio: bool = True
    keep_subtitles: bool = True
    unkept: list[str] = field(default_factory=list)  # stream codecs the container can't hold
    notes: list[str] = field(default_factory=list)

    def shape(self, info: VideoInfo) -> dict[str, Any]:
        """What an encoder needs (codecs.configure)."""
        return {
            "width": self.width,
            "height": self.height,
            "time_base": info.time_base,
            "rate": info.rate,
            "colour": info.colour,
            "sample_aspect": info.sample_aspect,
        }


def output_size(
    info: VideoInfo, scale: int, target: int | None, scales: tuple[int, ...]
) -> tuple[int, int, int, list[str]]:
    """(width, height, the model's native scale, notes)."""
    notes = []
    factor = float(scale) if target is None else target / min(info.width, info.height)
    native = min((s for s in scales if s >= factor), default=max(scales))
    width, height = round(info.width * factor), round(info.height * factor)
    if width % 2 or height % 2:
        notes.append("4:2:0 video needs even sides: the last odd pixel row/column is cropped")
        width, height = width // 2 * 2, height // 2 * 2
    return width, height, native, notes


def window_of(info: VideoInfo, start: float | None, end: float | None, preview: bool) -> Window:
    """The time window: startTime/endTime, or a 2-second preview (at startTime, else in the
    middle of the video)."""
    if preview:
        begin = start if start is not None else max(0.0, info.duration / 2 - PREVIEW_SECONDS / 2)
        start, end = begin, begin + PREVIEW_SECONDS
    if start is not None and info.duration and start >= info.duration:
        raise ToolError(
            "INVALID_SETTINGS",
            f"startTime: {start:g} s is past the end of the video ({info.duration:.2f} s)",
            400,
        )
    if start == 0 and (end is None or (info.duration and end >= info.duration)):
        return Window()
    return Window(start, end)


def make_plan(info: VideoInfo, settings: Any, limits: Limits, scales: tuple[int, ...]) -> Plan:
    """The plan for `settings` (tools.video_upscale.Settings) on this input."""
    width, height, native, notes = output_size(
        info, settings.scale, settings.targetShortEdge, scales
    )
    if width * height > limits.max_pixels:
        raise ToolError(
            "OUTPUT_TOO_LARGE",
            f"{info.name} ({info.width}x{info.height}) would become {width}x{height} "
            f"({width * height / 1e6:.1f} MP a frame), over the {limits.max_pixels / 1e6:.1f} "
            "MP limit (MAX_VIDEO_PIXELS): use a smaller scale or targetShortEdge",
            400,
        )
    if min(width, height) < MIN_SIDE:
        raise ToolError("OUTPUT_TOO_SMALL", f"{width}x{height} px is too small to encode", 400)
    codec = codecs.require(settings.codec)
    options = codec.options(settings.crf, settings.preset)
    window = window_of(info, settings.startTime, settings.endTime, settings.preview)
    kept = info.codecs_kept(settings.keepAudio, settings.keepSubtitles)
    container, unkept = codecs.choose_container(settings.container, info.container, codec, kept)
    if unkept:
        notes.append(
            f"{container} cannot hold {', '.join(sorted(set(unkept)))} without re-encoding: "
            "those streams are left out (container mkv keeps them)"
        )
    return Plan(
        width,
        height,
        native,
        window,
        codec,
        options,
        container,
        settings.keepAudio,
        settings.keepSubtitles,
        unkept,
        notes,
    )
