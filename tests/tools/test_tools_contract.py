"""The contract every registered tool keeps, checked over the whole registry."""

from __future__ import annotations

import json
import typing
import zipfile

import pytest
from pydantic import BaseModel, RootModel

from tests.documents import DRAWING_SVG, pdf_pages
from tests.shipped_models import mask_png, needs_met, shipped_models_dir
from tests.tools import video_support
from tests.tools.conftest import ASTRONAUT
from tools import imaging, registry, runner
from tools.base import Inputs, OutputKind, Tool, ToolError, ToolSettings

# The least a caller must send for each tool; tools not listed run with {}.
MINIMAL_SETTINGS = {
    "resize": {"width": 100},
    "crop": {"aspectRatio": 1},
    "convert": {"format": "png"},
    "edit-metadata": {"title": "A title"},
    "watermark-text": {"text": "© Pixelsmith"},
    "text-overlay": {"text": "Caption"},
    "qr-generate": {"data": "https://pixelsmith.example"},
    "content-aware-resize": {"square": True},
    "erase-object": {"maskData": mask_png(600, 400)},  # photo.jpg's size
    # upscale needs nothing; its default (x4plus) takes ~70 s on the photo on a CPU.
    "upscale": {"model": "realesr-animevideov3"},
}
TOOLS = registry.all_tools()


def test_the_registry_lists_the_essentials() -> None:
    ids = [tool.id for tool in TOOLS]
    assert len(ids) == len(set(ids)) == len(registry.TOOL_MODULES)
    assert {"resize", "crop", "rotate", "convert", "compress", "info"} <= set(ids)


def settings_models(tool: Tool) -> list[type[BaseModel]]:
    """The models a tool's settings validate into: its model, or, where the settings are
    one model per mode (a RootModel over a discriminated union), each mode's model."""
    if issubclass(tool.settings, RootModel):
        return list(typing.get_args(tool.settings.model_fields["root"].annotation))
    return [tool.settings]


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.id)
def test_it_describes_itself(tool: Tool) -> None:
    assert tool.id and tool.name and tool.category and tool.description
    assert tool.run.__module__ == "tools." + tool.id.replace("-", "_")
    for model in settings_models(tool):
        assert issubclass(model, ToolSettings), model
        assert model.model_config.get("extra") == "forbid"
        assert model.__doc__
    described = json.loads(json.dumps(tool.describe()))
    assert described["settings"]["type"] == "object"
    if issubclass(tool.settings, RootModel):  # one model per mode: oneOf, told apart by a tag
        modes = described["settings"]["oneOf"]
        assert len(modes) == len(settings_models(tool)) > 1
        assert described["settings"]["discriminator"]["propertyName"]
    assert tool.run.__doc__ and tool.settings.__doc__


# Tools whose input is not a photo get one of these (name, bytes) instead.
OTHER_INPUTS = {
    "svg-to-raster": ("drawing.svg", DRAWING_SVG),
    "pdf-to-image": ("doc.pdf", pdf_pages([(255, 0, 0), (0, 0, 255)])),
    # A passport photo needs a face (photo.jpg has none: 422): the astronaut portrait.
    "passport-photo": ("astronaut.png", ASTRONAUT.read_bytes()),
    "red-eye-removal": ("astronaut.png", ASTRONAUT.read_bytes()),
    "video-upscale": ("clip.mp4", video_support.tiny_mp4()),
}


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.id)
def test_it_runs_on_the_photo(tool: Tool, photo, transparent, ctx, tmp_path, make_source) -> None:
    settings = runner.validate_settings(tool, MINIMAL_SETTINGS.get(tool.id, {}))
    if tool.id in OTHER_INPUTS:
        name, data = OTHER_INPUTS[tool.id]
        (tmp_path / name).write_bytes(data)
        photo = make_source(tmp_path / name)
    # Two-input tools get the transparent PNG second (an overlay); generators get nothing.
    inputs = {Inputs.NONE: [], Inputs.OPTIONAL: [], Inputs.TWO: [photo, transparent]}.get(
        tool.inputs, [photo] * tool.min_inputs
    )
    if tool.models:  # AI tools run with the shipped models' real weights
        ctx = ctx.derive(model_dir=shipped_models_dir())
        if not needs_met(tool, ctx.model_dir):  # a download-only model: 503 until installed
            with pytest.raises(ToolError) as missing:
                runner.execute(tool, inputs, settings, ctx)
            assert (missing.value.status, missing.value.code) == (503, "MODEL_NOT_INSTALLED")
            return
    output = runner.execute(tool, inputs, settings, ctx)
    assert output.kind == tool.output
    assert output.engine
    if output.kind == OutputKind.JSON:
        json.dumps(output.data, allow_nan=False)
        return
    assert output.path is not None and output.path.stat().st_size > 0
    assert output.path.parent == ctx.scratch_dir
    if output.filename.endswith(".zip"):  # several files: only a DOCUMENT may be a ZIP
        assert output.kind == OutputKind.DOCUMENT
        assert output.media_type == "application/zip"
        assert zipfile.ZipFile(output.path).testzip() is None
        return
    fmt = imaging.sniff(output.path)
    assert fmt is not None
    assert output.media_type == imaging.media_type(fmt)
    assert output.filename.endswith(imaging.extension(fmt))
