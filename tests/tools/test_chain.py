"""tools.chain: steps over inputs with one Context, below the apps (no Django, no database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pyvips

from tests.tools.conftest import FIXTURES, source_for
from tools import registry, runner
from tools.base import Cancelled, Context, Inputs, ToolError
from tools.chain import INVALID, Step, check_links, run_steps


def step(number: int, tool_id: str, **settings: Any) -> Step:
    tool = registry.get(tool_id)
    assert tool is not None
    return Step(number, tool, runner.validate_settings(tool, settings), settings)


def photos(count: int = 1) -> list[Any]:
    return [source_for(FIXTURES / "photo.jpg", f"p{i}.jpg") for i in range(count)]


def test_a_first_step_takes_every_input_and_the_next_its_image(tmp_path: Path):
    collage = step(1, "collage", template="row-2", width=400, height=200)
    steps = [collage, step(2, "resize", width=100)]

    scratch = tmp_path / "scratch"
    output = run_steps(steps, photos(2), Context(scratch))

    assert output.path is not None
    image = pyvips.Image.new_from_file(str(output.path))
    assert (image.width, image.height) == (100, 50)
    assert output.engine.startswith("collage: ") and "; resize: libvips" in output.engine
    assert [p.name for p in scratch.iterdir()] == [output.path.name]  # the collage is gone


def test_a_pipeline_spreads_progress_over_its_steps(tmp_path: Path):
    seen: list[tuple[float, str]] = []
    ctx = Context(tmp_path, progress=lambda p, m="": seen.append((p, m)))

    run_steps([step(1, "resize", width=300), step(2, "rotate", angle=90)], photos(), ctx)

    assert seen[0] == (0, "Step 1/2 (resize)")
    assert any(m.startswith("Step 2/2 (rotate)") and 50 <= p < 100 for p, m in seen)
    assert [p for p, _ in seen] == sorted(p for p, _ in seen)


def test_a_tool_call_keeps_the_tools_own_progress_errors_and_engine(tmp_path: Path):
    seen: list[str] = []
    ctx = Context(tmp_path, progress=lambda p, m="": seen.append(m))
    output = run_steps([step(1, "resize", width=30)], photos(), ctx, pipeline=False)
    assert output.engine.startswith("libvips") and not any(m.startswith("Step") for m in seen)

    crop = step(1, "crop", left=5000, width=10)
    with pytest.raises(ToolError) as caught:
        run_steps([crop], photos(), Context(tmp_path), pipeline=False)
    assert caught.value.code == "CROP_OUT_OF_BOUNDS"
    assert not caught.value.message.startswith("Step")


def test_a_cancel_is_seen_between_steps(tmp_path: Path):
    done: list[str] = []

    def progress(percent: float, message: str = "") -> None:
        done.append(message)

    ctx = Context(tmp_path, progress=progress, is_cancelled=lambda: len(done) > 2)
    with pytest.raises(Cancelled):
        run_steps([step(1, "resize", width=300), step(2, "rotate", angle=90)], photos(), ctx)
    assert not any(m.startswith("Step 2/2") for m in done)


@pytest.mark.parametrize(
    ("tools", "each_file", "message"),
    [
        (["resize", "collage"], False, "Step 2 (collage): collage takes several files; only"),
        (["collage", "resize"], True, "Step 1 (collage): collage takes several files; a batch"),
        (["info", "resize"], False, "Step 1 (info): its output (json) is not an image"),
        (["qr-generate", "resize"], True, "Step 1 (qr-generate): qr-generate takes an optional"),
    ],
)
def test_check_links_names_the_first_step_that_cannot_take_its_input(tools, each_file, message):
    found = [registry.get(t) for t in tools]
    with pytest.raises(ToolError) as caught:
        check_links([t for t in found if t is not None], each_file)
    assert caught.value.code == INVALID and caught.value.message.startswith(message)


def test_any_first_step_is_fine_outside_a_batch():
    for tool in registry.all_tools():
        check_links([tool], each_file=False)
        if tool.inputs is Inputs.ONE:
            check_links([tool], each_file=True)
