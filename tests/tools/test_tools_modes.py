"""Tools whose settings are one model per mode (a pydantic discriminated union).

For each: a setting of another mode is a 400 INVALID_SETTINGS naming that setting; the
JSON schema of each mode lists exactly that mode's settings; leaving the mode out still
means the old default mode, with the old defaults.
"""

from __future__ import annotations

from typing import Any, get_args

import pytest

from tools import registry, runner
from tools.base import ToolError
from tools.fields import Anchor

ANCHORS = list(get_args(Anchor))
_CROP_BOX = {"left", "top", "width", "height", "aspectRatio"}
_SPLIT = {"format", "quality", "tileWidth", "tileHeight"}
_BORDER = {"format", "quality", "width", "color", "borderRadius", "padding", "paddingColor"}
_BORDER |= {"shadow", "shadowOffsetX", "shadowOffsetY", "shadowBlur", "shadowColor"}
_STITCH = {"gap", "backgroundColor", "alignment", "scale", "format", "quality"}
_MARK = {"format", "quality", "opacity", "scale"}
_TEXT = {"format", "quality", "text", "font", "fontSize", "color", "opacity", "rotation", "tile"}

# tool id -> (the mode's key, {mode: the settings that mode takes, the key included})
MODES: dict[str, tuple[str, dict[str, set[str]]]] = {
    "gif-tools": (
        "action",
        {
            "resize": {"action", "format", "width", "height"},
            "optimize": {"action", "format", "colors", "lossy"},
            "reverse": {"action", "format"},
            "speed": {"action", "format", "factor"},
            "rotate": {"action", "format", "angle"},
            "add-text": {"action", "format", "text", "fontSize", "color", "position", "margin"},
            "extract-frames": {"action"},
        },
    ),
    "crop": (
        "shape",
        {
            "rectangle": _CROP_BOX | {"shape"},
            "circle": _CROP_BOX | {"shape"},
            "rounded": _CROP_BOX | {"shape", "borderRadius"},
        },
    ),
    "split": (
        "mode",
        {
            "grid": _SPLIT | {"mode", "rows", "cols"},
            "rows": _SPLIT | {"mode", "rows"},
            "cols": _SPLIT | {"mode", "cols"},
        },
    ),
    "border": (
        "style",
        {
            "solid": _BORDER | {"style"},
            "gradient": _BORDER | {"style", "secondColor"},
            "pattern": _BORDER | {"style", "secondColor", "patternType", "patternSize"},
        },
    ),
    "stitch": (
        "direction",
        {
            "horizontal": _STITCH | {"direction"},
            "vertical": _STITCH | {"direction"},
            "grid": _STITCH | {"direction", "columns"},
        },
    ),
    "watermark-image": (
        "position",
        {a: _MARK | {"position", "margin"} for a in ANCHORS}
        | {"custom": _MARK | {"position", "x", "y"}},
    ),
    "watermark-text": (
        "position",
        {a: _TEXT | {"position", "margin"} for a in ANCHORS}
        | {"custom": _TEXT | {"position", "x", "y"}},
    ),
}

# (tool id, settings with one setting of another mode, that setting)
MIXED = [
    ("gif-tools", {"action": "resize", "width": 100, "colors": 8}, "colors"),
    ("gif-tools", {"action": "reverse", "factor": 3}, "factor"),
    ("gif-tools", {"colors": 8, "angle": 45}, "angle"),  # no action: optimize
    ("gif-tools", {"action": "speed", "text": "hi"}, "text"),
    ("gif-tools", {"action": "extract-frames", "format": "gif"}, "format"),  # always PNGs
    ("crop", {"shape": "circle", "borderRadius": 10}, "borderRadius"),
    ("crop", {"aspectRatio": 1, "borderRadius": 5}, "borderRadius"),  # no shape: rectangle
    ("split", {"mode": "rows", "rows": 3, "cols": 4}, "cols"),
    ("split", {"mode": "cols", "rows": 5}, "rows"),
    ("border", {"style": "solid", "secondColor": "#123456"}, "secondColor"),
    ("border", {"patternSize": 4}, "patternSize"),  # no style: solid
    ("border", {"style": "gradient", "patternType": "stripes"}, "patternType"),
    ("stitch", {"columns": 5}, "columns"),  # no direction: horizontal
    ("stitch", {"direction": "vertical", "columns": 4}, "columns"),
    ("watermark-image", {"x": 10}, "x"),  # no position: bottom-right
    ("watermark-image", {"position": "custom", "margin": 5}, "margin"),
    ("watermark-text", {"text": "a", "position": "center", "y": 3}, "y"),
    ("watermark-text", {"text": "a", "position": "custom", "margin": 0}, "margin"),
]

# tool id -> (settings that leave the mode out, what they validate to: the old defaults)
DEFAULTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "gif-tools": ({}, {"action": "optimize", "format": None, "colors": 256, "lossy": 0}),
    "crop": (
        {"aspectRatio": 1},
        {"shape": "rectangle", "left": None, "top": None, "width": None, "height": None}
        | {"aspectRatio": 1.0},
    ),
    "split": (
        {},
        {"mode": "grid", "rows": 2, "cols": 2, "tileWidth": None, "tileHeight": None}
        | {"format": None, "quality": None},
    ),
    "border": (
        {},
        {"style": "solid", "width": 20, "color": "#000000", "borderRadius": 0, "padding": 0}
        | {"paddingColor": "#ffffff", "shadow": False, "shadowOffsetX": 8, "shadowOffsetY": 8}
        | {"shadowBlur": 12, "shadowColor": "#00000080", "format": None, "quality": None},
    ),
    "stitch": (
        {},
        {"direction": "horizontal", "gap": 0, "backgroundColor": "#ffffff"}
        | {"alignment": "center", "scale": "smallest", "format": "png", "quality": None},
    ),
    "watermark-image": (
        {},
        {"position": "bottom-right", "margin": 20, "opacity": 50, "scale": 25}
        | {"format": None, "quality": None},
    ),
    "watermark-text": (
        {"text": "a"},
        {"position": "bottom-right", "margin": 20, "text": "a", "font": "DejaVu Sans"}
        | {"fontSize": 48, "color": "#ffffff", "opacity": 50, "rotation": 0, "tile": False}
        | {"format": None, "quality": None},
    ),
}


def mode_schemas(tool_id: str) -> dict[str, dict[str, Any]]:
    """{mode: that mode's JSON schema}, as GET /api/v1/tools/<id> describes them."""
    schema = registry.get(tool_id).describe()["settings"]
    defs = schema["$defs"]
    return {
        mode: defs[ref.removeprefix("#/$defs/")]
        for mode, ref in schema["discriminator"]["mapping"].items()
    }


@pytest.mark.parametrize(("tool_id", "raw", "field"), MIXED)
def test_a_setting_of_another_mode_is_refused_by_name(tool_id, raw, field):
    with pytest.raises(ToolError) as err:
        runner.validate_settings(registry.get(tool_id), raw)
    assert (err.value.code, err.value.status) == ("INVALID_SETTINGS", 400)
    # It says which mode the setting was checked against.
    key, _ = MODES[tool_id]
    mode = raw.get(key) or runner.validate_settings(registry.get(tool_id), DEFAULTS[tool_id][0])
    mode = mode if isinstance(mode, str) else getattr(mode.root, key)
    assert err.value.message.startswith(f"{field}: not a setting of {key} '{mode}'")


# (tool id, a full form's payload: another mode's settings left at their defaults)
FULL_FORMS = [
    ("gif-tools", {"action": "resize", "width": 10, "colors": 256, "lossy": 0, "angle": 90}),
    ("split", {"mode": "cols", "cols": 3, "rows": 2}),
    ("border", {"style": "solid", "patternType": "checker"}),
    ("crop", {"shape": "rectangle", "width": 10, "borderRadius": None}),
]


@pytest.mark.parametrize(("tool_id", "raw"), FULL_FORMS)
def test_a_form_posting_every_field_at_its_default_still_works(tool_id, raw):
    """Another mode's setting left at its default changes nothing, so it is not refused:
    a client that posts its whole form keeps working."""
    key, modes = MODES[tool_id]
    settings = runner.validate_settings(registry.get(tool_id), raw)
    assert set(settings.model_dump()) == modes[raw[key]]


@pytest.mark.parametrize("tool_id", MODES)
def test_each_modes_schema_lists_exactly_its_settings(tool_id):
    key, modes = MODES[tool_id]
    schema = registry.get(tool_id).describe()["settings"]
    assert schema["type"] == "object" and schema["discriminator"]["propertyName"] == key
    found = mode_schemas(tool_id)
    assert set(found) == set(modes)
    for mode, fields in modes.items():
        assert set(found[mode]["properties"]) == fields, mode
        assert found[mode]["additionalProperties"] is False
        tag = found[mode]["properties"][key]
        assert mode in tag.get("enum", [tag.get("const")])


@pytest.mark.parametrize("tool_id", MODES)
def test_leaving_the_mode_out_keeps_the_old_default_mode_and_defaults(tool_id):
    raw, expected = DEFAULTS[tool_id]
    settings = runner.validate_settings(registry.get(tool_id), raw)
    assert settings.model_dump() == expected


# What a gif-tools action needs besides its name.
GIF_NEEDS = {"resize": {"width": 10}, "add-text": {"text": "a"}}


@pytest.mark.parametrize("tool_id", MODES)
def test_each_mode_validates_with_its_tag_and_its_own_settings(tool_id):
    key, modes = MODES[tool_id]
    least, _ = DEFAULTS[tool_id]  # what the tool needs whatever the mode
    for mode in modes:
        raw = least | {key: mode} | (GIF_NEEDS.get(mode, {}) if tool_id == "gif-tools" else {})
        settings = runner.validate_settings(registry.get(tool_id), raw)
        assert getattr(settings.root, key) == mode


@pytest.mark.parametrize("tool_id", MODES)
def test_an_unknown_mode_names_the_modes_key(tool_id):
    key, _ = MODES[tool_id]
    with pytest.raises(ToolError) as err:
        runner.validate_settings(registry.get(tool_id), {key: "sideways"})
    assert err.value.code == "INVALID_SETTINGS"
    assert f"'{key}'" in err.value.message and "sideways" in err.value.message


@pytest.mark.parametrize(("tool_id", "raw", "field"), MIXED)
def test_the_json_schema_alone_agrees(tool_id, raw, field):
    """A client validating against the published schema (no pydantic) gets the same
    answers: the mode-less payload matches the default mode, a mixed one matches none."""
    import jsonschema  # drf-spectacular's dependency

    schema = registry.get(tool_id).describe()["settings"]
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(DEFAULTS[tool_id][0])
    assert not validator.is_valid(raw)
