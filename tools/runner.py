"""Running a tool: validate its settings, check its inputs, and keep libvips errors inside.

The apps (inline views, queue workers, pipelines) call these two functions and nothing
else of a tool, so the error contract holds in one place: a caller gets an `Output`, a
`ToolError` (4xx), `Cancelled`, or a genuine bug (5xx) - never a raw `pyvips.Error`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pyvips
from pydantic import BaseModel, ValidationError

from tools import imaging, svg_render
from tools.base import Context, Inputs, Output, Source, Tool, ToolError
from tools.fields import ModeSettings
from tools.video.formats import VIDEO_FORMATS

logger = logging.getLogger(__name__)

# pydantic's message for a key the model does not define (extra="forbid").
_READABLE = {"extra_forbidden": "unknown setting"}
# A multi-file tool holds every input (or what it makes of them) at once: bound it like
# a batch (the contract's 200 files per batch).
MAX_MANY_INPUTS = 200


def validate_settings(tool: Tool, raw: Any) -> BaseModel:
    """Validate raw settings (parsed JSON) into the tool's model.

    Raises INVALID_SETTINGS (400) with one readable line per problem, each naming its
    field, e.g. `width: Input should be greater than or equal to 1`.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ToolError("INVALID_SETTINGS", "settings must be a JSON object", 400)
    try:
        return tool.parse_settings(raw)
    except ValidationError as exc:
        raise ToolError(
            "INVALID_SETTINGS", readable_errors(exc, mode_key(tool.settings)), 400
        ) from exc


def mode_key(settings: type[BaseModel]) -> str | None:
    """The key that picks the model of settings that are one model per mode, else None."""
    return settings.mode_key() if issubclass(settings, ModeSettings) else None


def readable_errors(exc: ValidationError, mode: str | None = None) -> str:
    """`field: message; other: message` from a pydantic ValidationError.

    For settings that are one model per `mode`, pydantic's location starts with the
    mode's value; it is said in words instead (`colors: not a setting of action 'resize'`).
    """
    parts = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        message = _READABLE.get(error["type"], error["msg"]).removeprefix("Value error, ")
        if mode and len(loc) > 1:
            value = loc.pop(0)
            if error["type"] == "extra_forbidden":
                message = f"not a setting of {mode} '{value}'"
        field = ".".join(loc)
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def _check_input_count(tool: Tool, count: int) -> None:
    expected = {
        Inputs.NONE: (0, 0),
        Inputs.OPTIONAL: (0, 1),
        Inputs.ONE: (1, 1),
        Inputs.TWO: (2, 2),
    }
    low, high = expected.get(tool.inputs, (tool.min_inputs, None))
    if count < low or (high is not None and count > high):
        wanted = {
            Inputs.NONE: "no file",
            Inputs.OPTIONAL: "at most one file",
            Inputs.ONE: "one file",
            Inputs.TWO: "two files",
            Inputs.MANY: f"{tool.min_inputs} or more files",
        }
        raise ToolError(
            "WRONG_INPUT_COUNT",
            f"{tool.id} takes {wanted.get(tool.inputs, 'one or more files')}, got {count}",
            400,
        )
    if tool.inputs is Inputs.MANY and count > MAX_MANY_INPUTS:
        raise ToolError(
            "TOO_MANY_FILES", f"{tool.id} takes at most {MAX_MANY_INPUTS} files, got {count}", 400
        )


def _check_videos(tool: Tool, sources: Sequence[Source]) -> None:
    """A video reaches only a tool that takes videos; image tools get a clear 400."""
    if tool.takes_video:
        return
    for source in sources:
        if source.format in VIDEO_FORMATS:
            raise ToolError(
                "UNSUPPORTED_FORMAT",
                f"{source.name} is a video ({source.format}): {tool.id} takes images; "
                "videos go to video-upscale",
                400,
            )


def execute(
    tool: Tool, sources: Sequence[Source], settings: BaseModel | dict[str, Any], ctx: Context
) -> Output:
    """Run `tool` on `sources`; libvips failures become CORRUPT_IMAGE / PROCESSING_FAILED (422).

    `settings` may be raw (a dict) or already validated. `ToolError` and `Cancelled` pass
    through unchanged.
    """
    _check_input_count(tool, len(sources))
    _check_videos(tool, sources)
    if not isinstance(settings, tool.settings):
        settings = validate_settings(tool, settings)
    ctx.check_cancelled()
    try:
        with svg_render.running(ctx):  # an SVG drawn for the tool is cancelled with it
            return tool.run(sources, settings, ctx)
    except pyvips.Error as exc:
        error = imaging.vips_error(exc)
        broken = [s for s in sources if not imaging.decodes_cleanly(s, ctx.max_megapixels)]
        if error.code != "CORRUPT_IMAGE" and broken:
            error = ToolError("CORRUPT_IMAGE", f"{broken[0].name} could not be decoded", 422)
        # A corrupt upload is the user's problem; anything else may be ours.
        level = logging.INFO if error.code == "CORRUPT_IMAGE" else logging.WARNING
        logger.log(level, "%s failed in libvips: %s", tool.id, error.code, exc_info=True)
        raise error from exc
