"""Settings field types shared by several tools (output format, quality, colours).

Shared so every tool spells them the same way in its JSON schema and accepts the same
aliases ("jpg", "tif", "heic").
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from tools.base import ToolSettings

_FORMAT_ALIASES = {"jpg": "jpeg", "jpe": "jpeg", "tif": "tiff", "heic": "heif"}


def _canonical_format(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().lower()
        return _FORMAT_ALIASES.get(value, value)
    return value


ImageFormat = Annotated[
    Literal["jpeg", "png", "webp", "avif", "tiff", "gif", "heif"],
    BeforeValidator(_canonical_format),
    Field(description="Output format (jpg, tif and heic are accepted as aliases)."),
]
Quality = Annotated[
    int, Field(ge=1, le=100, description="Encoder quality, 1 (smallest) to 100 (best).")
]


class ImageOutputSettings(ToolSettings):
    """The output options every tool that writes one image offers: format and quality."""

    format: ImageFormat | None = Field(None, description="Default: the (first) input's format.")
    quality: Quality | None = None


_HEX = re.compile(r"^#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
HexColor = Annotated[
    str,
    Field(
        pattern=r"^(transparent|#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}))$",
        description='"#rgb", "#rgba", "#rrggbb", "#rrggbbaa" or "transparent".',
        examples=["#ffffff", "#00000080", "transparent"],
    ),
]

RGBA = tuple[int, int, int, int]
WHITE: RGBA = (255, 255, 255, 255)
TRANSPARENT: RGBA = (0, 0, 0, 0)


def parse_color(value: str) -> RGBA:
    """A validated `HexColor` as 0..255 RGBA."""
    if value.lower() == "transparent":
        return TRANSPARENT
    match = _HEX.match(value)
    if match is None:
        raise ValueError(f"not a colour: {value!r}")
    digits = match.group(1)
    if len(digits) <= 4:
        digits = "".join(ch * 2 for ch in digits)
    digits = digits.ljust(8, "f")
    r, g, b, a = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
    return (r, g, b, a)


def background_for(value: str | None, output_format: str, alpha_formats: frozenset[str]) -> RGBA:
    """The colour to fill new areas with: the one asked for, else transparent where the
    output can hold alpha and white where it cannot (jpeg)."""
    if value is not None:
        return parse_color(value)
    return TRANSPARENT if output_format in alpha_formats else WHITE
