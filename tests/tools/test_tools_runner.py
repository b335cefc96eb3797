"""tools.runner: settings validation, input counts, and no pyvips.Error ever escaping."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import pyvips

from tools import registry, runner
from tools.base import (
    Cancelled,
    Context,
    Inputs,
    Output,
    OutputKind,
    Source,
    Tool,
    ToolError,
    ToolSettings,
)

IMAGE_TOOLS = {
    "resize": {"width": 100},
    "crop": {"aspectRatio": 1},
    "rotate": {"angle": 90},
    "convert": {"format": "png"},
    "compress": {"targetSizeKB": 5},
    "optimize-for-web": {},
    "strip-metadata": {},
    "edit-metadata": {"title": "x"},
    "image-to-pdf": {},
    "favicon": {},
    "color-adjustments": {"brightness": 10},
    "sharpening": {},
    "replace-color": {},
}


def _tool(tool_id: str) -> Tool:
    tool = registry.get(tool_id)
    assert tool is not None
    return tool


def test_it_names_the_field_in_a_bound_error() -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(_tool("resize"), {"width": -5})
    assert (caught.value.code, caught.value.status) == ("INVALID_SETTINGS", 400)
    assert caught.value.message == "width: Input should be greater than or equal to 1"


def test_it_rejects_unknown_settings_keys() -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(_tool("rotate"), {"angle": 90, "colour": "red"})
    assert caught.value.code == "INVALID_SETTINGS"
    assert caught.value.message == "colour: unknown setting"


def test_it_reports_every_bad_field_in_one_message() -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(_tool("resize"), {"width": 0, "fit": "squash"})
    assert "width:" in caught.value.message and "fit:" in caught.value.message


def test_it_reports_cross_field_rules_readably() -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(_tool("resize"), {"width": 10, "percentage": 50})
    assert caught.value.message == "use only one of width/height, percentage, or preset"


@pytest.mark.parametrize("raw", [[1, 2], "width=5", 42])
def test_it_wants_a_json_object(raw: object) -> None:
    with pytest.raises(ToolError) as caught:
        runner.validate_settings(_tool("info"), raw)
    assert caught.value.code == "INVALID_SETTINGS"


def test_missing_settings_mean_defaults() -> None:
    assert runner.validate_settings(_tool("compress"), None).quality == 80  # type: ignore[attr-defined]


def test_it_checks_the_number_of_inputs(photo: Source, ctx: Context) -> None:
    for sources in ([], [photo, photo]):
        with pytest.raises(ToolError) as caught:
            runner.execute(_tool("info"), sources, {}, ctx)
        assert (caught.value.code, caught.value.status) == ("WRONG_INPUT_COUNT", 400)


def test_it_validates_raw_settings_itself(photo: Source, ctx: Context) -> None:
    output = runner.execute(_tool("resize"), [photo], {"width": 60}, ctx)
    assert output.path is not None and output.path.exists()
    with pytest.raises(ToolError, match=r"^width: "):
        runner.execute(_tool("resize"), [photo], {"width": "wide"}, ctx)


@pytest.mark.parametrize(("tool_id", "raw"), IMAGE_TOOLS.items())
def test_a_truncated_jpeg_is_a_corrupt_image(
    tool_id: str, raw: dict, truncated_jpeg: Source, ctx: Context
) -> None:
    with pytest.raises(ToolError) as caught:
        runner.execute(_tool(tool_id), [truncated_jpeg], raw, ctx)
    assert (caught.value.code, caught.value.status) == ("CORRUPT_IMAGE", 422)
    assert "premature end" in caught.value.message.lower()
    leftovers = list(ctx.scratch_dir.glob("*")) if ctx.scratch_dir.exists() else []
    assert leftovers == [], "a failed encode must not leave half-written files"


@pytest.mark.parametrize(("tool_id", "raw"), IMAGE_TOOLS.items())
def test_a_huge_header_is_refused_by_every_tool(
    tool_id: str, raw: dict, huge_png: Source, ctx: Context
) -> None:
    with pytest.raises(ToolError) as caught:
        runner.execute(_tool(tool_id), [huge_png], raw, ctx)
    assert (caught.value.code, caught.value.status) == ("IMAGE_TOO_LARGE", 413)


class _NoSettings(ToolSettings):
    pass


def _failing_tool(error: pyvips.Error) -> Tool:
    def run(inputs: Sequence[Source], settings: ToolSettings, ctx: Context) -> Output:
        raise error

    return Tool(
        id="boom", name="Boom", category="test", description="fails", settings=_NoSettings, run=run
    )


def test_no_pyvips_error_escapes(photo: Source, ctx: Context) -> None:
    tool = _failing_tool(pyvips.Error("unable to call affine", "affine: parameter out of range\n"))
    with pytest.raises(ToolError) as caught:
        runner.execute(tool, [photo], {}, ctx)
    assert (caught.value.code, caught.value.status) == ("PROCESSING_FAILED", 422)
    assert caught.value.message == "affine: parameter out of range"


def test_cancellation_passes_through(photo: Source, tmp_path) -> None:
    cancelled = Context(scratch_dir=tmp_path, is_cancelled=lambda: True)
    with pytest.raises(Cancelled):
        runner.execute(_tool("info"), [photo], {}, cancelled)


def test_tools_without_inputs_take_none(ctx: Context) -> None:
    def run(inputs: Sequence[Source], settings: ToolSettings, ctx: Context) -> Output:
        return Output.json({"n": len(inputs)}, engine="test")

    tool = Tool(
        id="gen",
        name="Gen",
        category="test",
        description="d",
        settings=_NoSettings,
        run=run,
        inputs=Inputs.NONE,
        output=OutputKind.JSON,
    )
    assert runner.execute(tool, [], {}, ctx).data == {"n": 0}


def test_a_corrupt_file_is_blamed_even_while_other_threads_use_libvips(
    truncated_jpeg: Source, photo: Source, tmp_path: Path
) -> None:
    """libvips keeps one error text per process: under concurrency the message of a failed
    decode can be another thread's. The runner re-checks the input, so the code holds."""
    import threading

    tool = registry.get("resize")
    assert tool is not None
    stop = threading.Event()

    def busy(n: int) -> None:
        while not stop.is_set():
            runner.execute(tool, [photo], {"width": 300}, Context(tmp_path / f"busy{n}"))

    threads = [threading.Thread(target=busy, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    codes = []
    try:
        for _ in range(20):
            with pytest.raises(ToolError) as caught:
                runner.execute(tool, [truncated_jpeg], {"width": 100}, Context(tmp_path / "bad"))
            codes.append(caught.value.code)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert set(codes) == {"CORRUPT_IMAGE"}
