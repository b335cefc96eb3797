"""The output file: the segments' video packets and the input's audio, subtitles and
chapters, copied (never re-encoded), interleaved by time.

Timestamps: a whole video keeps the input's own timestamps, so audio and subtitles stay
exactly where they were, variable frame rate included. A window (startTime/endTime, a
preview) is shifted so that its first frame is at 0, and audio/subtitle packets are
taken from that time on and shifted alike. Segments were encoded by separate encoders:
where a segment's first decoding timestamps (B-frame reordering) fall at or before the
previous segment's last, they are moved just after it, as FFmpeg's own concatenation
does; presentation timestamps never change, so there is no seam in time.

Memory: packets stream from the segment files and from the input in time order (a
merge of two ordered streams), so nothing accumulates.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from itertools import islice
from pathlib import Path
from typing import Any

import av

from tools.base import Source, ToolError
from tools.video import codecs
from tools.video.formats import MUXERS
from tools.video.plan import Plan
from tools.video.probe import VideoInfo, copied_codec, copied_streams, open_input, reason
from tools.video.segments import SegmentStore

# Metadata copied over (container and streams); the rest (encoder, brands, Matroska's
# per-stream statistics) describes the input file and would be wrong on the output.
_CONTAINER_TAGS = ("title", "comment", "artist", "album", "date", "description", "genre",
                   "copyright", "creation_time", "language")  # fmt: skip
_STREAM_TAGS = ("language", "title")


@dataclass(frozen=True)
class Muxed:
    """What went into the output besides the video."""

    audio: int
    subtitles: int
    chapters: int


@dataclass(frozen=True)
class _Timed:
    """A packet to write and the time (s) that orders it."""

    time: float
    order: int
    packet: Any

    def __lt__(self, other: _Timed) -> bool:
        return (self.time, self.order) < (other.time, other.order)


def write(source: Source, info: VideoInfo, plan: Plan, store: SegmentStore, path: Path) -> Muxed:
    """Mux the output file at `path`; see the module docstring."""
    first = next(store.packets(), None)
    if first is None:
        raise ToolError("NO_FRAMES", f"{source.name}: no frames in the chosen time range", 400)
    with (
        open_input(source) as container,
        av.open(str(path), "w", format=MUXERS[plan.container]) as out,
    ):
        try:
            return _write(source, container, out, info, plan, store)
        except av.FFmpegError as exc:
            raise ToolError(
                "MUX_FAILED", f"the {plan.container} file could not be written: {reason(exc)}", 422
            ) from exc


def _write(
    source: Source, container: Any, out: Any, info: VideoInfo, plan: Plan, store: SegmentStore
) -> Muxed:
    video = out.add_stream(plan.codec.encoder, rate=info.rate)
    codecs.configure(video.codec_context, plan.codec, plan.options, plan.shape(info))
    video.time_base = info.time_base
    source_video = container.streams.video[0]
    _tags(source_video.metadata, video.metadata, _STREAM_TAGS)
    rotation = _rotation(source)
    if rotation:
        video.set_display_rotation(rotation)
    copies = _copied(container, out, plan)
    _tags(container.metadata, out.metadata, _CONTAINER_TAGS)
    shift = _shift(plan, store, info.time_base)
    chapters = _chapters(container, plan, shift)
    out.set_chapters(chapters)
    out.start_encoding()
    merged = heapq.merge(
        _video_packets(store, video, info.time_base, shift),
        _copied_packets(container, copies, plan, shift),
    )
    for timed in merged:
        out.mux(timed.packet)
    audio = sum(1 for s in copies.values() if s.type == "audio")
    return Muxed(audio=audio, subtitles=len(copies) - audio, chapters=len(chapters))


def _tags(source: dict[str, str], target: Any, keys: tuple[str, ...]) -> None:
    for key in keys:
        if source.get(key):
            target[key] = source[key]


def _rotation(source: Source) -> int:
    """The display rotation of the input's video (phones film sideways and say so). Read
    from the first frame, in a container of its own: seeking back afterwards could skip
    packets timed before 0 (an audio encoder's priming)."""
    with open_input(source) as container:
        try:
            frame = next(container.decode(video=0), None)
        except av.FFmpegError:
            return 0
    return int(frame.rotation) if frame is not None and frame.rotation else 0


def _copied(container: Any, out: Any, plan: Plan) -> dict[int, Any]:
    """Output streams for the input's kept audio and subtitle streams, by input index."""
    copies = {}
    for stream in copied_streams(container):
        wanted = plan.keep_audio if stream.type == "audio" else plan.keep_subtitles
        if not wanted or copied_codec(stream) in plan.unkept:
            continue
        copy = out.add_stream_from_template(stream)
        _tags(stream.metadata, copy.metadata, _STREAM_TAGS)
        copy.disposition = stream.disposition
        copies[stream.index] = copy
    return copies


def _shift(plan: Plan, store: SegmentStore, time_base: Fraction) -> Fraction:
    """Seconds to take off every timestamp: 0 for a whole video, else the time of the
    window's first frame (the smallest pts among the first packets: reordering is shallow)."""
    if plan.window.whole:
        return Fraction(0)
    head = [p.pts for p in islice(store.packets(), 32) if p.pts is not None]
    return min(head) * time_base if head else Fraction(0)


def _video_packets(
    store: SegmentStore, stream: Any, time_base: Fraction, shift: Fraction
) -> Iterator[_Timed]:
    out_base = stream.time_base
    offset = shift / time_base  # in input ticks
    last_dts: int | None = None
    for raw in store.packets():
        pts = None if raw.pts is None else round((raw.pts - offset) * time_base / out_base)
        dts = None if raw.dts is None else round((raw.dts - offset) * time_base / out_base)
        if dts is not None and last_dts is not None and dts <= last_dts:
            dts = last_dts + 1  # a later segment's reordering delay: see the docstring
        if dts is not None and pts is not None and dts > pts:
            raise ToolError(
                "MUX_FAILED", "the output time base is too coarse for this frame rate", 422
            )
        last_dts = dts if dts is not None else last_dts
        packet = av.Packet(raw.data)
        packet.stream = stream
        packet.pts, packet.dts, packet.time_base = pts, dts, out_base
        packet.duration = round(raw.duration * time_base / out_base)
        packet.is_keyframe = raw.keyframe
        when = dts if dts is not None else (pts or 0)
        yield _Timed(float(when * out_base), 0, packet)


def _copied_packets(
    container: Any, copies: dict[int, Any], plan: Plan, shift: Fraction
) -> Iterator[_Timed]:
    if not copies:
        return
    window = plan.window
    if shift:
        container.seek(max(0, int((shift - 1) * av.time_base)))  # a second early: audio
    streams = [s for s in container.streams if s.index in copies]
    end = None if window.end is None else shift + Fraction(window.end - (window.start or 0))
    for packet in container.demux(*streams):
        if packet.size == 0 or packet.pts is None or packet.time_base is None:
            continue
        time = packet.pts * packet.time_base
        if shift and (time < shift or (end is not None and time >= end)):
            continue
        offset = round(shift / packet.time_base)
        packet.pts -= offset
        if packet.dts is not None:
            packet.dts -= offset
        packet.stream = copies[packet.stream.index]
        when = packet.dts if packet.dts is not None else packet.pts
        yield _Timed(float(when * packet.time_base), 1, packet)


def _chapters(container: Any, plan: Plan, shift: Fraction) -> list[dict[str, Any]]:
    """The input's chapters, within the window and shifted like the packets."""
    window = plan.window
    length = None if window.end is None else window.end - (window.start or 0)
    kept = []
    for chapter in container.chapters():
        base = chapter["time_base"]
        start, end = chapter["start"] * base - shift, chapter["end"] * base - shift
        if end <= 0 or (length is not None and start >= length):
            continue
        kept.append({**chapter, "start": max(0, round(start / base)), "end": round(end / base)})
    return kept
