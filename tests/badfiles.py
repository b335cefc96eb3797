"""Adversarial inputs built on the fly (never committed): truncated, mislabelled, bombs."""

import struct
import zlib
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def truncated_jpeg() -> bytes:
    """The fixture photo cut in half: a valid header, then nothing."""
    data = (FIXTURES / "photo.jpg").read_bytes()
    return data[: len(data) // 2]


def text_as_jpeg() -> bytes:
    return b"This is a plain text file that someone named photo.jpg.\n" * 20


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header claiming width×height px, with one tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )
