"""Video containers by their first bytes: MP4, QuickTime MOV, Matroska (MKV) and WebM.

Light on purpose (no PyAV): `tools.imaging.open_source` accepts these as uploads, and
`tools.runner` refuses them for every tool but the ones that take video. `sniff_video`
only looks at what `imaging.sniff_bytes` does not claim: an ISO-BMFF `ftyp` box whose
brands are HEIF/AVIF is an image there, any other `ftyp` is a video here.
"""

from __future__ import annotations

VIDEO_FORMATS = frozenset({"mp4", "mov", "mkv", "webm"})
EXTENSIONS = {"mp4": ".mp4", "mov": ".mov", "mkv": ".mkv", "webm": ".webm"}
MEDIA_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
}
# FFmpeg muxer names of the containers we write.
MUXERS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm"}
_EBML = b"\x1a\x45\xdf\xa3"
# QuickTime files from before `ftyp` existed open with one of these atoms.
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def sniff_video(head: bytes) -> str | None:
    """mp4, mov, mkv or webm from a file's first bytes, else None."""
    if head.startswith(_EBML):
        # The EBML header names its DocType within its first few dozen bytes.
        return "webm" if b"webm" in head[:64] else "mkv"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if len(head) >= 8 and head[4:8] in _QUICKTIME_ATOMS and int.from_bytes(head[:4], "big") >= 8:
        return "mov"
    return None
