"""Short test videos made with PyAV: a moving square on a changing background, a sine-wave
audio track, optional SRT subtitles and chapters, constant or variable frame rate.

Tiny on purpose (32x24 px, a few frames at 8 fps by default): the upscale model costs
about 1 s per 256² frame on a CPU, and every frame goes through it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import av
import numpy as np

SAMPLE_RATE = 48000
TONE_HZ = 440


@dataclass(frozen=True)
class Spec:
    """What to generate."""

    width: int = 32
    height: int = 24
    frames: int = 16
    fps: int = 8
    codec: str = "libx264"
    container: str = "mp4"  # an FFmpeg muxer name: mp4, matroska, webm, mov, gif
    audio: bool = True
    subtitles: tuple[tuple[float, float, str], ...] = ()  # (start s, end s, text)
    chapters: tuple[tuple[float, float, str], ...] = ()
    vfr: bool = False  # every third frame lasts twice as long
    colour: tuple[int, int, int, int] | None = None  # primaries, trc, space, range


def picture(index: int, width: int, height: int) -> np.ndarray:
    """Frame `index`: a bright square moving right over a background that darkens."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[...] = (40, 90 + index % 100, 160)
    side = max(4, height // 3)
    x = (index * 2) % max(1, width - side)
    rgb[height // 4 : height // 4 + side, x : x + side] = (250, 220, 30)
    return rgb


def timestamps(spec: Spec) -> list[int]:
    """Each frame's pts in ticks of 1/(fps*2): VFR doubles every third frame's duration."""
    pts, now = [], 0
    for i in range(spec.frames):
        pts.append(now)
        now += 4 if spec.vfr and i % 3 == 2 else 2
    return pts


def duration_of(spec: Spec) -> float:
    """The video's length in seconds (the last frame's end)."""
    pts = timestamps(spec)
    last = 4 if spec.vfr and (spec.frames - 1) % 3 == 2 else 2
    return (pts[-1] + last) / (spec.fps * 2)


def write(spec: Spec, path: Path | io.BytesIO) -> None:
    """Write the video described by `spec`."""
    with av.open(path, "w", format=spec.container) as out:
        video = _video_stream(out, spec)
        audio = _audio_stream(out) if spec.audio else None
        subs = out.add_mux_stream("subrip") if spec.subtitles else None
        if subs is not None:
            subs.time_base = Fraction(1, 1000)
            subs.metadata["language"] = "eng"
        if spec.chapters:
            out.set_chapters(_chapters(spec))  # type: ignore[arg-type]  # dicts, as PyAV reads them
        tb = Fraction(1, spec.fps * 2)
        for i, pts in enumerate(timestamps(spec)):
            frame = av.VideoFrame.from_ndarray(picture(i, spec.width, spec.height), "rgb24")
            frame.pts, frame.time_base = pts, tb
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            _write_audio(out, audio, duration_of(spec))
        if subs is not None:
            for start, end, text in spec.subtitles:
                packet = av.Packet(text.encode())
                packet.stream, packet.time_base = subs, Fraction(1, 1000)
                packet.pts = packet.dts = round(start * 1000)
                packet.duration = round((end - start) * 1000)
                out.mux(packet)


def _video_stream(out: Any, spec: Spec) -> Any:
    video = out.add_stream(spec.codec, rate=spec.fps)
    video.width, video.height = spec.width, spec.height
    video.pix_fmt = "yuv420p" if spec.codec != "gif" else "rgb8"
    video.time_base = Fraction(1, spec.fps * 2)
    if spec.codec == "libx264":
        video.options = {"preset": "ultrafast"}
    if spec.colour:
        ctx = video.codec_context
        ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range = spec.colour
    return video


def _audio_stream(out: Any) -> Any:
    codec = "aac" if out.format.name != "webm" else "libopus"
    audio = out.add_stream(codec, rate=SAMPLE_RATE)
    audio.layout = "stereo"
    return audio


def _write_audio(out: Any, stream: Any, seconds: float) -> None:
    total = round(SAMPLE_RATE * seconds)
    t = np.arange(total) / SAMPLE_RATE
    wave = (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    for start in range(0, total, 960):
        chunk = wave[start : start + 960]
        frame = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = SAMPLE_RATE, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def _chapters(spec: Spec) -> list[dict[str, Any]]:
    return [
        {
            "id": i + 1,
            "start": round(start * 1000),
            "end": round(end * 1000),
            "time_base": Fraction(1, 1000),
            "metadata": {"title": title},
        }
        for i, (start, end, title) in enumerate(spec.chapters)
    ]


def make(tmp: Path, name: str = "clip.mp4", **changes: Any) -> Path:
    """Write a video into `tmp` and return its path."""
    path = tmp / name
    write(Spec(**changes), path)
    return path


@cache
def tiny_mp4() -> bytes:
    """The smallest useful MP4 (32x24, 8 frames, audio) as bytes, for registry-wide tests."""
    buffer = io.BytesIO()
    write(Spec(frames=8), buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Probed:
    """What a test checks of an output video."""

    container: str
    width: int
    height: int
    frames: int
    video_seconds: float
    audio_seconds: float | None
    subtitles: list[tuple[float, str]]
    chapters: list[str]
    pts_seconds: list[float]
    colour: tuple[int, int, int, int]
    codec: str


def probe(path: Path) -> Probed:
    """Decode an output video completely: size, frames, durations, streams."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        ctx = video.codec_context
        colour = (ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range)
        frames: list[Any] = list(container.decode(video=0))
        pts = [float(f.pts * f.time_base) for f in frames]
        last = float(frames[-1].duration * frames[-1].time_base) if frames[-1].duration else 0
        video_end = pts[-1] + last - pts[0]
        return Probed(
            container.format.name,
            frames[0].width,
            frames[0].height,
            len(frames),
            video_end,
            _audio_seconds(path),
            _subtitles(path),
            [c["metadata"].get("title", "") for c in container.chapters()],
            pts,
            colour,
            ctx.codec.canonical_name,
        )


def _audio_seconds(path: Path) -> float | None:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        samples = sum(f.samples for f in container.decode(audio=0))
        return samples / container.streams.audio[0].sample_rate


def _subtitles(path: Path) -> list[tuple[float, str]]:
    with av.open(str(path)) as container:
        if not container.streams.subtitles:
            return []
        stream = container.streams.subtitles[0]
        packets: list[Any] = [p for p in container.demux(stream) if p.size]
        return [(float(p.pts * p.time_base), bytes(p).decode(errors="replace")) for p in packets]
