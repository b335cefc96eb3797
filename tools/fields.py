"""Settings field types shared by several tools (output format, quality, colours).

Shared so every tool spells them the same way in its JSON schema and accepts the same
aliases ("jpg", "tif", "heic").
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, model_validator

from tools.base import ToolSettings

T = TypeVar("T")
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


# The nine anchors a layer can be placed at (tools.layers.Position adds "custom").
Anchor = Literal[
    "top-left",
    "top-center",
    "top-right",
    "center-left",
    "center",
    "center-right",
    "bottom-left",
    "bottom-center",
    "bottom-right",
]


class ModeSettings(RootModel[T], Generic[T]):
    """Base of a tool's settings that are one model per mode: a RootModel over a union of
    ToolSettings models told apart by the mode's key (a pydantic discriminated union).

    A setting of another mode is then refused, not silently ignored, and the JSON schema
    (hence the OpenAPI spec and a form generated from it) shows each mode's own settings.
    A subclass names the union and its `default_mode`, used where a caller leaves the mode
    out. A form that posts every field keeps working: settings of other modes left at
    their defaults are dropped; one with a value of its own is refused, as it would do
    nothing.
    """

    # The schema stays an object (a oneOf of objects), as every tool's settings are.
    model_config = ConfigDict(json_schema_extra={"type": "object"})
    default_mode: ClassVar[str]

    @classmethod
    def mode_key(cls) -> str:
        """The setting that picks the mode (the union's discriminator)."""
        key = cls.model_fields["root"].discriminator
        assert isinstance(key, str), f"{cls.__qualname__}: the union needs a discriminator key"
        return key

    @model_validator(mode="before")
    @classmethod
    def _fill_in_the_mode(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        key = cls.mode_key()
        data = {key: cls.default_mode, **data}
        modes = _modes(cls)
        chosen = next((m for m in modes if data[key] in _tags(m, key)), None)
        if chosen is None:
            return data  # an unknown mode: the union itself names the key
        own = set(chosen.model_fields) | {f.alias for f in chosen.model_fields.values() if f.alias}
        for name in [n for n in data if n not in own]:
            defaults = [m.model_fields[name].get_default() for m in modes if name in m.model_fields]
            if defaults and all(data[name] == d for d in defaults):
                del data[name]
        return data


def _modes(settings_cls: type[RootModel[Any]]) -> tuple[type[BaseModel], ...]:
    """The models of a RootModel over a union (pydantic keeps the bare union here)."""
    union = settings_cls.model_fields["root"].annotation
    return tuple(m for m in get_args(union) if isinstance(m, type) and issubclass(m, BaseModel))


def _tags(model: type[BaseModel], key: str) -> tuple[Any, ...]:
    """The values of the mode `key` that pick `model` (its Literal's values)."""
    return get_args(model.model_fields[key].annotation)


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
