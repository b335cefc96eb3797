"""Bulk rename: give many files names from a pattern and return them in a ZIP, unchanged.

`pattern` placeholders: `{n}` the file's number (from `startIndex`, zero-padded to
`padding` digits, in upload order), `{original}` the uploaded name without its
extension, `{date}` the photo's capture date (EXIF DateTimeOriginal, else DateTime) as
YYYY-MM-DD, or today's date (UTC) when the file has none. Any other `{...}` is refused.
The extension comes from the file's real format, not from its old name (so a PNG named
`a.jpg` becomes `....png`).

Names are made safe for every OS (no path separators, control or reserved characters,
no leading dots, at most 150 characters); two files that would get the same name
(compared case-insensitively) are told apart as `name-2`, `name-3`, ...

The bytes are copied unchanged (stored, not recompressed) and nothing is decoded: a
damaged image is renamed like any other file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from PIL import ExifTags, Image
from pydantic import Field, field_validator

from tools import archive, imaging
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolSettings

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_KNOWN = {"n", "date", "original"}
_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})")


class Settings(ToolSettings):
    """The name pattern, the first number and how many digits numbers get."""

    pattern: str = Field(
        "image-{n}",
        min_length=1,
        max_length=200,
        description="New name without extension; {n}, {date} and {original} are replaced.",
    )
    startIndex: int = Field(1, ge=0, le=1_000_000_000, description="Number of the first file.")
    padding: int = Field(3, ge=0, le=10, description="Zero-pad {n} to this many digits.")

    @field_validator("pattern")
    @classmethod
    def _known_placeholders(cls, pattern: str) -> str:
        unknown = sorted(set(_PLACEHOLDER.findall(pattern)) - _KNOWN)
        if unknown:
            names = ", ".join("{" + name + "}" for name in unknown)
            raise ValueError(f"unknown placeholder {names}: use {{n}}, {{date}}, {{original}}")
        return pattern


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Name every file from the pattern and store them all, byte for byte, in one ZIP."""
    taken: set[str] = set()
    members: list[tuple[str, Path]] = []
    for offset, source in enumerate(inputs):
        ctx.check_cancelled()
        stem = render(settings, source, settings.startIndex + offset)
        members.append((_unique(stem, imaging.extension(source.format), taken), source.path))
    ctx.progress(50, "writing the ZIP")
    path = archive.write_zip(ctx, members)
    ctx.progress(100, "done")
    return archive.zip_output(path, "renamed.zip", archive.ENGINE, count=len(members))


def render(settings: Settings, source: Source, number: int) -> str:
    """The safe new name (without extension) of one file."""
    values = {"n": str(number).zfill(settings.padding), "original": Path(source.name).stem}
    if "{date}" in settings.pattern:
        values["date"] = capture_date(source) or datetime.now(UTC).date().isoformat()
    name = _PLACEHOLDER.sub(lambda match: values[match.group(1)], settings.pattern)
    return archive.safe_name(name)


def capture_date(source: Source) -> str | None:
    """YYYY-MM-DD from EXIF DateTimeOriginal (or DateTime), read from the header only."""
    if source.format == "heif":  # phone photos: Pillow reads HEIC through pillow-heif
        import pillow_heif  # imported here: heavy, and only HEIC input needs it

        pillow_heif.register_heif_opener()
    try:
        with imaging.pillow_open(source) as im:
            exif = im.getexif()
            stamp = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal)
            stamp = stamp or exif.get(ExifTags.Base.DateTime)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None  # a format Pillow cannot open (SVG) or a damaged header: no date
    match = _EXIF_DATE.match(str(stamp or ""))
    return "-".join(match.groups()) if match else None


def _unique(stem: str, suffix: str, taken: set[str]) -> str:
    """`stem + suffix`, or `stem-2 + suffix`, ... whichever is not taken yet."""
    candidate, counter = stem + suffix, 1
    while candidate.lower() in taken:
        counter += 1
        candidate = f"{stem}-{counter}{suffix}"
    taken.add(candidate.lower())
    return candidate


TOOL = Tool(
    id="bulk-rename",
    name="Bulk Rename",
    category="optimization",
    description="Rename many files from a pattern ({n}, {date}, {original}) into a ZIP, "
    "bytes unchanged.",
    settings=Settings,
    run=run,
    inputs=Inputs.MANY,
    output=OutputKind.DOCUMENT,
)
