"""Image to Base64: the file as a Base64 string or a `data:` URI, for HTML/CSS embedding.

With mimeType "auto" the file's own bytes are encoded unchanged (after checking they
decode: a truncated file is refused). Another image type re-encodes it into that type
first (quality defaults). `format` plain gives the bare Base64 text; data-uri prefixes
`data:<type>;base64,`. The JSON also gives the type, the byte size and the string length.

Limits: files over 10 MB are refused (a data URI that large does not belong in a page);
the first page/frame only when re-encoding.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from tools import imaging
from tools.base import Context, Output, OutputKind, Source, Tool, ToolError, ToolSettings

MAX_BYTES = 10_000_000
# Media type -> writer format, for re-encoding.
_TYPES = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/gif": "gif",
    "image/tiff": "tiff",
}
MimeType = Literal[
    "auto", "image/jpeg", "image/png", "image/webp", "image/avif", "image/gif", "image/tiff"
]


class Settings(ToolSettings):
    """Bare Base64 or a data URI, and the image type to encode."""

    format: Literal["data-uri", "plain"] = Field("data-uri", description="Output form.")
    mimeType: MimeType = Field("auto", description="auto keeps the file's own type and bytes.")


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    """Encode one file as Base64; see the module docstring."""
    source = inputs[0]
    own_type = imaging.media_type(source.format)
    if settings.mimeType in ("auto", own_type):
        _check_size(source.size)
        imaging.verify_decodes(source, ctx.max_megapixels)
        data, media = source.path.read_bytes(), own_type
        engine = imaging.engine_name(source.format)
    else:
        fmt = _TYPES[settings.mimeType]
        image = imaging.load(source, ctx.max_megapixels)
        path = imaging.save(image, imaging.output_path(ctx, fmt), fmt)
        _check_size(path.stat().st_size)
        data, media = path.read_bytes(), settings.mimeType
        engine = imaging.engine_name(source.format, fmt)
    text = base64.b64encode(data).decode("ascii")
    if settings.format == "data-uri":
        text = f"data:{media};base64,{text}"
    result = {"base64": text, "mimeType": media, "bytes": len(data), "length": len(text)}
    return Output.json(result, f"{engine} + Python base64")


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        limit = MAX_BYTES // 1_000_000
        raise ToolError("FILE_TOO_LARGE", f"over {limit} MB: too big to embed as Base64", 413)


TOOL = Tool(
    id="image-to-base64",
    name="Image to Base64",
    category="utilities",
    description="The image as a Base64 string or data: URI (optionally re-encoded to "
    "another type).",
    settings=Settings,
    run=run,
    output=OutputKind.JSON,
)
