"""The explicit list of tools, built once into a dict that fails loudly on duplicates.

Adding a tool: write `tools/<tool_id_with_underscores>.py` exporting `TOOL`, then add
the module name to TOOL_MODULES.
"""

from __future__ import annotations

import importlib
from functools import cache

from tools.base import Tool

TOOL_MODULES: tuple[str, ...] = (
    "tools.resize",
    "tools.crop",
    "tools.rotate",
    "tools.convert",
    "tools.compress",
    "tools.info",
    "tools.optimize_for_web",
    "tools.strip_metadata",
    "tools.edit_metadata",
    "tools.bulk_rename",
    "tools.image_to_pdf",
    "tools.favicon",
    "tools.color_adjustments",
    "tools.sharpening",
    "tools.replace_color",
    "tools.watermark_text",
    "tools.text_overlay",
    "tools.watermark_image",
    "tools.compose",
    "tools.compare",
    "tools.color_palette",
    "tools.image_to_base64",
    "tools.svg_to_raster",
    "tools.pdf_to_image",
    "tools.vectorize",
    "tools.find_duplicates",
    "tools.qr_generate",
    "tools.barcode_read",
    "tools.stitch",
    "tools.split",
    "tools.border",
    "tools.noise_removal",
    "tools.image_enhancement",
    "tools.content_aware_resize",
    "tools.collage",
    "tools.gif_tools",
    "tools.blur_faces",
    "tools.detect_faces",
    "tools.smart_crop",
    "tools.red_eye_removal",
    "tools.remove_background",
    "tools.passport_photo",
    "tools.erase_object",
    "tools.colorize",
    "tools.enhance_faces",
    "tools.restore_photo",
    "tools.ocr",
    "tools.upscale",
    "tools.video_upscale",
)


# Tools the server runs for its own features (admin endpoints), never offered to users:
# the tools API, pipelines and the catalog only see TOOL_MODULES.
SYSTEM_TOOL_MODULES: tuple[str, ...] = (
    "tools.model_download",
    "tools.model_load",
    "tools.model_benchmark",
)


class DuplicateToolError(RuntimeError):
    """Two modules registered the same tool id."""


@cache
def _tools(modules: tuple[str, ...] = TOOL_MODULES) -> dict[str, Tool]:
    found: dict[str, Tool] = {}
    for module_name in modules:
        tool: Tool = importlib.import_module(module_name).TOOL
        if tool.id in found:
            raise DuplicateToolError(f"tool id {tool.id!r} registered twice ({module_name})")
        found[tool.id] = tool
    return found


def get(tool_id: str) -> Tool | None:
    """The tool with this id, or None."""
    return _tools().get(tool_id)


def system_tool(tool_id: str) -> Tool | None:
    """A system tool (model-download), for the jobs that the server itself creates."""
    return _tools(SYSTEM_TOOL_MODULES).get(tool_id)


def all_tools() -> list[Tool]:
    """Every registered tool, in registry order."""
    return list(_tools().values())
