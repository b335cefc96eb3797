"""Metadata blocks inside JPEG, PNG and WebP files, rewritten without touching the pixels.

strip-metadata and edit-metadata change what a file says about itself, not how it looks,
so for these three containers they copy the compressed image data byte for byte and only
drop, replace or add the metadata blocks around it (as exiftool does). Re-encoding would
cost quality for nothing.

What counts as what:
- EXIF: JPEG APP1 "Exif", PNG eXIf (and ImageMagick's "Raw profile type exif/APP1" text),
  WebP EXIF. Held as TIFF-structured bytes (starting "MM"/"II"), without "Exif\\0\\0".
- XMP: JPEG APP1 (main and extended packets), PNG iTXt "XML:com.adobe.xmp", WebP "XMP ".
- ICC: JPEG APP2 "ICC_PROFILE", PNG iCCP, WebP ICCP.
- other (only dropped by `Changes.strip_other`): JPEG APP3..APP15 except Adobe APP14, IPTC
  (APP13), comments, the MPF index, and anything after the image's EOI (MPF secondary images,
  vendor trailers); PNG text chunks and tIME. JFIF (APP0) and Adobe (APP14) stay: decoders
  need them to read the colours right.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tools.base import ToolError

LOSSLESS_FORMATS = frozenset({"jpeg", "png", "webp"})
EXIF_HEADER = b"Exif\x00\x00"
_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_JPEG_EXT = b"http://ns.adobe.com/xmp/extension/\x00"
_XMP_PNG_KEYWORD = b"XML:com.adobe.xmp"
_MAX_JPEG_SEGMENT = 65533  # a segment's 16-bit length counts itself (2 bytes)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}
# ImageMagick stores EXIF/XMP/IPTC as hex text under these keywords.
_PNG_RAW_PROFILES = {
    b"Raw profile type exif": "exif",
    b"Raw profile type APP1": "exif",
    b"Raw profile type xmp": "xmp",
    b"Raw profile type iptc": "other",
}
_VP8X_ICC, _VP8X_ALPHA, _VP8X_EXIF, _VP8X_XMP = 0x20, 0x10, 0x08, 0x04
# WebP chunks that come before EXIF/XMP in the order the container spec requires.
_WEBP_IMAGE_CHUNKS = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"}


@dataclass(frozen=True)
class Changes:
    """What to do to each block: for `exif` and `xmp`, None keeps what the file has,
    b"" removes it and other bytes replace it."""

    exif: bytes | None = None
    xmp: bytes | None = None
    drop_icc: bool = False
    strip_other: bool = False


def rewrite(data: bytes, fmt: str, changes: Changes) -> tuple[bytes, set[str]]:
    """The file with `changes` applied, and the kinds of block that were removed."""
    writers: dict[str, Callable[[bytes, Changes], tuple[bytes, set[str]]]] = {
        "jpeg": _rewrite_jpeg,
        "png": _rewrite_png,
        "webp": _rewrite_webp,
    }
    try:
        return writers[fmt](data, changes)
    except (IndexError, struct.error, ValueError) as exc:
        raise _corrupt(fmt) from exc


def _corrupt(fmt: str) -> ToolError:
    return ToolError("CORRUPT_IMAGE", f"the {fmt} container is damaged", 422)


def _keeps(kind: str, changes: Changes) -> bool:
    """Whether a block of this kind is copied to the output."""
    if kind in ("exif", "xmp"):
        return getattr(changes, kind) is None
    if kind == "icc":
        return not changes.drop_icc
    if kind == "other":
        return not changes.strip_other
    return True


def _added(changes: Changes) -> list[tuple[str, bytes]]:
    """New EXIF/XMP blocks to write, EXIF first (readers look for it first)."""
    return [(kind, value) for kind in ("exif", "xmp") if (value := getattr(changes, kind))]


# --- JPEG ------------------------------------------------------------------------------


def _rewrite_jpeg(data: bytes, changes: Changes) -> tuple[bytes, set[str]]:
    segments, scan_start, scan_end = _jpeg_layout(data)
    kept: list[bytes] = []
    removed: set[str] = set()
    for segment in segments:
        kind = _jpeg_kind(segment)
        if _keeps(kind, changes):
            kept.append(segment)
        else:
            removed.add(kind)
    leading_app0 = next((i for i, s in enumerate(kept) if s[1] != 0xE0), len(kept))
    new = [_jpeg_segment(0xE1, _jpeg_payload(kind, value)) for kind, value in _added(changes)]
    kept[leading_app0:leading_app0] = new
    trailer = data[scan_end:]
    if trailer and changes.strip_other:
        removed.add("other")
        trailer = b""
    body = b"".join(kept)
    return data[:2] + body + data[scan_start:scan_end] + trailer, removed


def _jpeg_layout(data: bytes) -> tuple[list[bytes], int, int]:
    """The marker segments before the first scan, where the scan starts, and where the
    image ends (just after EOI; the file's end when EOI is missing)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("no SOI")
    pos = 2
    segments: list[bytes] = []
    while True:
        while data[pos] == 0xFF and data[pos + 1] == 0xFF:  # fill bytes before a marker
            pos += 1
        if data[pos] != 0xFF:
            raise ValueError("marker expected")
        if data[pos + 1] == 0xDA:  # SOS: entropy-coded data follows
            return segments, pos, _jpeg_end(data, pos)
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segments.append(data[pos : pos + 2 + length])
        pos += 2 + length


def _jpeg_end(data: bytes, pos: int) -> int:
    """Just after the EOI that ends the image starting its scans at `pos`.

    In entropy-coded data 0xFF is always followed by 0x00 (stuffing) or a restart marker,
    so the next other marker is either EOI or a segment between progressive scans.
    """
    while (found := data.find(b"\xff", pos)) >= 0 and found + 1 < len(data):
        marker = data[found + 1]
        if marker == 0xD9:
            return found + 2
        if marker in (0x00, 0xFF) or 0xD0 <= marker <= 0xD7:
            pos = found + 1
        else:  # a marker segment (SOS, DHT, DQT, DRI...) between scans: skip its header
            pos = found + 2 + struct.unpack(">H", data[found + 2 : found + 4])[0]
    return len(data)


def _jpeg_kind(segment: bytes) -> str:
    marker, payload = segment[1], segment[4:]
    if marker == 0xE1 and payload.startswith(EXIF_HEADER):
        return "exif"
    if marker == 0xE1 and payload.startswith((_XMP_JPEG, _XMP_JPEG_EXT)):
        return "xmp"
    if marker == 0xE2 and payload.startswith(b"ICC_PROFILE\x00"):
        return "icc"
    if marker == 0xE0 or (marker == 0xEE and payload.startswith(b"Adobe")):
        return "image"  # JFIF and Adobe colour-transform info: needed to decode correctly
    if 0xE1 <= marker <= 0xEF or marker == 0xFE:
        return "other"  # IPTC (APP13), comments, MPF, vendor and JUMBF/C2PA segments
    return "image"  # tables, frame header, restart interval


def _jpeg_payload(kind: str, value: bytes) -> bytes:
    return EXIF_HEADER + value if kind == "exif" else _XMP_JPEG + value


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > _MAX_JPEG_SEGMENT:
        raise ToolError(
            "METADATA_TOO_LARGE",
            f"the metadata is {len(payload)} bytes; a JPEG segment holds at most 65533",
            422,
        )
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


# --- PNG -------------------------------------------------------------------------------


def _rewrite_png(data: bytes, changes: Changes) -> tuple[bytes, set[str]]:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("no PNG signature")
    chunks = _png_chunks(data)
    if not chunks or chunks[0][0] != b"IHDR":
        raise ValueError("IHDR must come first")
    out = [_PNG_SIGNATURE, chunks[0][1]]
    out += [_png_chunk(*_png_block(kind, value)) for kind, value in _added(changes)]
    removed: set[str] = set()
    for kind_name, raw in chunks[1:]:
        kind = _png_kind(kind_name, raw)
        if _keeps(kind, changes):
            out.append(raw)
        else:
            removed.add(kind)
    return b"".join(out), removed


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk with length and CRC) for every chunk through IEND."""
    pos, chunks = len(_PNG_SIGNATURE), []
    while pos < len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ValueError("chunk runs past the end")
        chunks.append((kind, data[pos:end]))
        pos = end
        if kind == b"IEND":
            break
    return chunks


def _png_kind(kind: bytes, raw: bytes) -> str:
    if kind == b"eXIf":
        return "exif"
    if kind == b"iCCP":
        return "icc"
    if kind in _PNG_TEXT:
        keyword = raw[8:].split(b"\x00", 1)[0]
        if keyword == _XMP_PNG_KEYWORD:
            return "xmp"
        return _PNG_RAW_PROFILES.get(keyword, "other")
    return "other" if kind == b"tIME" else "image"


def _png_block(kind: str, value: bytes) -> tuple[bytes, bytes]:
    if kind == "exif":
        return b"eXIf", value
    # iTXt: keyword, no compression, no language tag, no translated keyword, UTF-8 text.
    return b"iTXt", _XMP_PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + value


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


# --- WebP ------------------------------------------------------------------------------


def _rewrite_webp(data: bytes, changes: Changes) -> tuple[bytes, set[str]]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a RIFF WEBP file")
    kinds = {b"EXIF": "exif", b"XMP ": "xmp", b"ICCP": "icc"}
    chunks, removed = [], set()
    for fourcc, payload in _riff_chunks(data):
        kind = kinds.get(fourcc, "image")
        if _keeps(kind, changes):
            chunks.append((fourcc, payload))
        else:
            removed.add(kind)
    added = [(b"EXIF" if kind == "exif" else b"XMP ", value) for kind, value in _added(changes)]
    if chunks and chunks[0][0] != b"VP8X" and (added or removed):
        chunks.insert(0, (b"VP8X", _vp8x_for(chunks[0])))  # the simple format has no flags
    after_image = max(i for i, (c, _) in enumerate(chunks) if c in _WEBP_IMAGE_CHUNKS) + 1
    chunks[after_image:after_image] = added
    if chunks[0][0] == b"VP8X":
        chunks[0] = (b"VP8X", _vp8x_flags(chunks[0][1], {c for c, _ in chunks}))
    body = b"WEBP" + b"".join(_riff_chunk(c, p) for c, p in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body, removed


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    end = 8 + struct.unpack("<I", data[4:8])[0]
    if end > len(data):
        raise ValueError("truncated RIFF")
    pos, chunks = 12, []
    while pos + 8 <= end:
        fourcc, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + size > end:
            raise ValueError("chunk runs past the end")
        chunks.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)  # payloads are padded to an even length
    return chunks


def _riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)


def _vp8x_for(image: tuple[bytes, bytes]) -> bytes:
    """A VP8X header for a simple-format file: canvas size and alpha from its bitstream."""
    fourcc, payload = image
    if fourcc == b"VP8L":  # 0x2f, then 14-bit width-1, 14-bit height-1, 1 alpha bit
        bits = struct.unpack("<I", payload[1:5])[0]
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        flags = _VP8X_ALPHA if bits >> 28 & 1 else 0
    elif fourcc == b"VP8 ":  # 3-byte frame tag, start code, 14-bit width and height
        width, height = (struct.unpack("<H", payload[i : i + 2])[0] & 0x3FFF for i in (6, 8))
        flags = 0
    else:
        raise ValueError("no image chunk")
    return (
        bytes((flags, 0, 0, 0))
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )


def _vp8x_flags(vp8x: bytes, present: set[bytes]) -> bytes:
    """VP8X with its ICC/EXIF/XMP flags matching the chunks the file now has."""
    flags = vp8x[0] & ~(_VP8X_ICC | _VP8X_EXIF | _VP8X_XMP)
    for fourcc, bit in ((b"ICCP", _VP8X_ICC), (b"EXIF", _VP8X_EXIF), (b"XMP ", _VP8X_XMP)):
        flags |= bit if fourcc in present else 0
    return bytes((flags,)) + vp8x[1:]
