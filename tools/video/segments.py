"""Finished segments of a video job, on disk, so that a retry resumes instead of restarting.

A video is encoded in segments of about VIDEO_SEGMENT_SECONDS of frames, each by a fresh
encoder (so each starts with a keyframe and stands alone). A segment's packets go to a
`.part` file that is renamed when the segment is complete, then the manifest (rewritten
atomically) records it: a worker killed at any moment leaves only whole, recorded
segments behind, and the next attempt decodes past them and goes on from the first frame
not yet encoded. The folder is the job's scratch folder (`Context.scratch_dir`: the
job's `work/`, kept until the job ends, and so across retries).

The manifest carries a key (the input's size and sampled bytes, the settings, the model
file, the encoder library): segments made from another input or with other settings are
never reused, they are deleted.

Packet files are a plain sequence of records: a header (pts, dts, duration, size,
keyframe) and the packet's bytes, timestamps in the video stream's time base; the final
file is muxed from them (`mux.py`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

_RECORD = struct.Struct("<qqqIB")
_NO_TS = -(2**63)  # a missing dts/pts in a record
_SAMPLE = 1 << 20  # bytes of the input's head and tail hashed into the key


@dataclass(frozen=True)
class Segment:
    """A finished segment: its number, frames, the pts of its last frame, its file."""

    index: int
    frames: int
    last_pts: int
    file: str


@dataclass(frozen=True)
class RawPacket:
    """An encoded packet as stored: timestamps in the video stream's time base."""

    pts: int | None
    dts: int | None
    duration: int
    keyframe: bool
    data: bytes


def work_key(input_path: Path, settings: dict[str, Any], extra: dict[str, Any]) -> str:
    """What the segments depend on: the input (size and its first and last MiB), the
    settings and `extra` (model file, encoder library versions)."""
    digest = hashlib.sha256()
    size = input_path.stat().st_size
    with input_path.open("rb") as fh:
        digest.update(fh.read(_SAMPLE))
        fh.seek(max(0, size - _SAMPLE))
        digest.update(fh.read(_SAMPLE))
    described = json.dumps({"size": size, "settings": settings, **extra}, sort_keys=True)
    digest.update(described.encode())
    return digest.hexdigest()


class SegmentStore:
    """The segments of one job in `folder`; see the module docstring."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key
        self.manifest = folder / "manifest.json"
        self.done: list[Segment] = self._load()

    def _load(self) -> list[Segment]:
        try:
            data = json.loads(self.manifest.read_text())
            if data.get("key") == self.key:
                segments = [Segment(**entry) for entry in data["segments"]]
                if all((self.folder / s.file).is_file() for s in segments):
                    return segments
        except (OSError, ValueError, TypeError, KeyError):
            pass  # none yet, or unreadable: start over
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        return []

    @property
    def frames_done(self) -> int:
        return sum(s.frames for s in self.done)

    @property
    def last_pts(self) -> int | None:
        return self.done[-1].last_pts if self.done else None

    def writer(self) -> SegmentWriter:
        """A writer for the next segment."""
        return SegmentWriter(self, len(self.done))

    def record(self, segment: Segment) -> None:
        self.done.append(segment)
        data = {"key": self.key, "segments": [asdict(s) for s in self.done]}
        partial = self.manifest.with_suffix(".tmp")
        partial.write_text(json.dumps(data))
        os.replace(partial, self.manifest)

    def packets(self) -> Iterator[RawPacket]:
        """Every stored packet, segment after segment."""
        for segment in self.done:
            with (self.folder / segment.file).open("rb") as fh:
                yield from _read_records(fh)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class SegmentWriter:
    """Writes one segment's packets; `commit` makes it count (rename, then manifest)."""

    def __init__(self, store: SegmentStore, index: int) -> None:
        self.store = store
        self.name = f"segment-{index:05d}.packets"
        self.index = index
        self.part = store.folder / (self.name + ".part")
        self.fh: BinaryIO = self.part.open("wb")
        self.frames = 0
        self.last_pts: int | None = None

    def frame_added(self, pts: int) -> None:
        self.frames += 1
        self.last_pts = pts

    def write(self, packet: RawPacket) -> None:
        pts = _NO_TS if packet.pts is None else packet.pts
        dts = _NO_TS if packet.dts is None else packet.dts
        header = _RECORD.pack(pts, dts, packet.duration, len(packet.data), packet.keyframe)
        self.fh.write(header)
        self.fh.write(packet.data)

    def commit(self) -> None:
        assert self.last_pts is not None, "an empty segment"
        self.fh.flush()
        os.fsync(self.fh.fileno())  # on disk before the manifest says it is
        self.fh.close()
        os.replace(self.part, self.store.folder / self.name)
        self.store.record(Segment(self.index, self.frames, self.last_pts, self.name))

    def abandon(self) -> None:
        self.fh.close()
        self.part.unlink(missing_ok=True)


def _read_records(fh: BinaryIO) -> Iterator[RawPacket]:
    while header := fh.read(_RECORD.size):
        pts, dts, duration, size, keyframe = _RECORD.unpack(header)
        yield RawPacket(
            None if pts == _NO_TS else pts,
            None if dts == _NO_TS else dts,
            duration,
            bool(keyframe),
            fh.read(size),
        )
