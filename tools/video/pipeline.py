"""The frame loop: decode, enlarge, encode, in segments; progress in frames; cancel per batch.

Memory is flat in the video's length: a batch of frames (1 on a CPU, GPU_BATCH on a GPU)
is in flight, plus what the decoder and the encoder keep (reference frames, the encoder's
look-ahead: bounded by its settings, not by the video). Encoded packets go straight to
the segment file on disk. See segments.py for how a retry resumes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import av
import numpy as np

from tools.base import Context, Source, ToolError
from tools.video import codecs, enlarge, frames
from tools.video.limits import Limits
from tools.video.plan import Plan
from tools.video.probe import VideoInfo, reason
from tools.video.segments import RawPacket, SegmentStore, SegmentWriter

# Progress: the frames take 2..95 %, the final mux the rest.
_FRAMES_START, _FRAMES_SPAN = 2.0, 93.0
FirstFrame = Callable[[np.ndarray, np.ndarray], None]


@dataclass
class Run:
    """What this attempt did: frames encoded now, frames found done, seconds spent."""

    encoded: int = 0
    resumed: int = 0
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.encoded / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Job:
    """One video's work: its input, plan, model, segment store and options."""

    source: Source
    info: VideoInfo
    plan: Plan
    enlarger: enlarge.Enlarger
    store: SegmentStore
    limits: Limits
    denoise: float = 0.0
    on_first: FirstFrame | None = None  # the preview's before/after still


def encode_all(job: Job, ctx: Context) -> Run:
    """Every frame of the plan's window into finished segments (those done are skipped)."""
    run = Run(resumed=job.store.frames_done)
    total = max(job.plan.window.frames(job.info), run.resumed + 1)
    position = frames.Position(job.plan.window, job.store.last_pts)
    decoded = frames.decoded(job.info, position, job.limits, job.source)
    segment = _Segment(job)
    started = time.monotonic()
    quiet = ctx.derive(progress=lambda percent, message="": None)
    try:
        for batch in _batches(decoded, job.enlarger.batch):
            ctx.check_cancelled()
            for original, big, frame in _enlarged(job, batch, quiet):
                if job.on_first is not None and run.encoded == 0 and run.resumed == 0:
                    job.on_first(original, big)
                segment.add(big, frame)
                run.encoded += 1
            run.seconds = time.monotonic() - started
            _report(ctx, run, total)
        segment.close()
    finally:
        segment.abandon()
    run.seconds = time.monotonic() - started
    return run


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _enlarged(
    job: Job, batch: list[Any], ctx: Context
) -> Iterator[tuple[np.ndarray, np.ndarray, Any]]:
    """(original RGB, enlarged RGB at the planned size, decoded frame) per frame."""
    originals = [frames.to_rgb(frame) for frame in batch]
    inputs = originals
    if job.denoise > 0:
        inputs = [enlarge.denoise(rgb, job.denoise)[0] for rgb in originals]
    bigs = job.enlarger.run_batch(inputs, ctx)
    for original, big, frame in zip(originals, bigs, batch, strict=True):
        yield original, enlarge.fit(big, job.plan.width, job.plan.height), frame


def _report(ctx: Context, run: Run, total: int) -> None:
    done = run.resumed + run.encoded
    left = max(0, total - done)
    eta = f", ETA {_duration(left / run.fps)}" if run.fps > 0 else ""
    message = f"frame {done}/{total} ({run.fps:.1f} fps{eta})"
    ctx.progress(_FRAMES_START + _FRAMES_SPAN * min(done, total) / total, message)


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class _Segment:
    """The segment being written: a fresh encoder per segment, so each opens on a keyframe."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.size = max(1, round(job.limits.segment_seconds * float(job.info.rate)))
        self.writer: SegmentWriter | None = None
        self.encoder: Any = None
        self.last_pts: int | None = job.store.last_pts

    def add(self, rgb: np.ndarray, decoded: Any) -> None:
        if self.writer is None:
            self.writer, self.encoder = self.job.store.writer(), self._encoder()
        pts = decoded.pts
        if self.last_pts is not None and pts <= self.last_pts:
            pts = self.last_pts + 1  # encoders refuse repeated timestamps (broken files)
        self.last_pts = pts
        out = frames.from_rgb(rgb, self.job.info.colour, pts, self.job.info.time_base)
        out.duration = decoded.duration
        self._encode(out)
        self.writer.frame_added(decoded.pts)
        if self.writer.frames >= self.size:
            self.close()

    def close(self) -> None:
        """Flush the encoder and commit the segment (nothing to do between segments)."""
        if self.writer is None:
            return
        self._encode(None)
        self.writer.commit()
        self.writer, self.encoder = None, None

    def abandon(self) -> None:
        if self.writer is not None:
            self.writer.abandon()
            self.writer, self.encoder = None, None

    def _encoder(self) -> Any:
        codec = self.job.plan.codec
        encoder = av.CodecContext.create(codec.encoder, "w")
        codecs.configure(encoder, codec, self.job.plan.options, self.job.plan.shape(self.job.info))
        return encoder

    def _encode(self, frame: Any) -> None:
        """Encode a frame (None: flush) and store the packets that come out."""
        assert self.writer is not None
        try:
            packets = self.encoder.encode(frame)
        except av.FFmpegError as exc:
            raise ToolError(
                "ENCODE_FAILED",
                f"{self.job.plan.codec.encoder} could not encode the frames: {reason(exc)}",
                422,
            ) from exc
        for packet in packets:
            raw = RawPacket(
                packet.pts, packet.dts, packet.duration or 0, packet.is_keyframe, bytes(packet)
            )
            self.writer.write(raw)
