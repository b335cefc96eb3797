"""ZIP results for tools that return several files (bulk-rename, favicon).

Members are either files on disk, streamed into the archive (never read whole into
memory), or small in-memory bytes. Already-compressed images are stored, not deflated:
deflating a JPEG gains nothing and costs time.
"""

from __future__ import annotations

import re
import sys
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path

from tools.base import Context, Output, OutputKind

ENGINE = f"Python {sys.version_info.major}.{sys.version_info.minor} zipfile"
# Characters no common file system accepts in a name, and the names Windows reserves.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_MAX_NAME = 150
# A DOS timestamp for in-memory members: fixed, so the same input gives the same ZIP.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def safe_name(name: str, fallback: str = "file") -> str:
    """A file name any OS and unzip tool accepts: no separators, control or reserved
    characters, no leading dots (hidden files, `..`), at most 150 characters."""
    clean = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    clean = _FORBIDDEN.sub("_", clean)
    clean = re.sub(r"\s+", " ", clean).strip(" .")
    clean = clean[:_MAX_NAME].rstrip(" .")
    if not clean:
        return fallback
    return f"_{clean}" if _RESERVED.match(clean) else clean


def write_zip(
    ctx: Context, members: Iterable[tuple[str, Path | bytes]], *, compress: bool = False
) -> Path:
    """Write `(name, file or bytes)` members to a fresh scratch ZIP and return its path.

    A failure (including a cancel) leaves no half-written archive behind.
    """
    path = ctx.scratch_path(f"out-{uuid.uuid4().hex[:12]}.zip")
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    try:
        with zipfile.ZipFile(path, "w", compression=method) as archive:
            for name, content in members:
                ctx.check_cancelled()
                if isinstance(content, Path):
                    archive.write(content, name)
                else:
                    archive.writestr(zipfile.ZipInfo(name, _EPOCH), content, compress_type=method)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def zip_output(path: Path, filename: str, engine: str, **extras: object) -> Output:
    """A DOCUMENT `Output` for a ZIP made by `write_zip`."""
    return Output.file(OutputKind.DOCUMENT, path, filename, engine, **extras)
