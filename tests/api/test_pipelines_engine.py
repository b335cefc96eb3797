"""Steps below HTTP: validation rules, and the engine's chaining (tools.chain): progress,
cancel, scratch files, a first step taking several inputs."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs.execute import run_job
from apps.jobs.models import Job
from apps.jobs.services import Work, create_job
from apps.jobs.steps import validate_steps
from apps.siteconfig.registry import set_setting
from tests.badfiles import FIXTURES
from tools import imaging, registry
from tools.base import Cancelled, Context, Inputs, Tool, ToolError
from tools.chain import run_steps

STEPS = [
    {"toolId": "resize", "settings": {"width": 300}},
    {"toolId": "compress", "settings": {"quality": 70}},
    {"toolId": "rotate", "settings": {"angle": 180}},
]


def source() -> Any:
    return [imaging.open_source(FIXTURES / "photo.jpg", "photo.jpg")]


@pytest.fixture
def fake_tool(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Register one extra tool, a variant of resize, for kinds no real tool has yet."""

    def register(**changes: Any) -> Tool:
        tool = dataclasses.replace(registry.get("resize"), id="fake", **changes)
        real_get = registry.get
        monkeypatch.setattr(registry, "get", lambda i: tool if i == "fake" else real_get(i))
        return tool

    return register


def test_progress_names_each_step_and_rises_to_100(db, tmp_path: Path):
    seen: list[tuple[float, str]] = []
    ctx = Context(scratch_dir=tmp_path, progress=lambda p, m="": seen.append((p, m)))

    run_steps(validate_steps(STEPS), source(), ctx)

    labels = [m.split(":")[0] for _, m in seen]
    assert labels[0] == "Step 1/3 (resize)" and labels[-1] == "Step 3/3 (rotate)"
    assert "Step 2/3 (compress)" in labels
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[0] == 0 and percents[-1] == 100


def test_a_cancel_stops_the_chain_before_the_next_step(db, tmp_path: Path):
    seen: list[str] = []
    cancelled = {"now": False}

    def progress(percent: float, message: str = "") -> None:
        seen.append(message)
        cancelled["now"] = percent >= 50  # step 1 of 2 is done

    ctx = Context(scratch_dir=tmp_path, progress=progress, is_cancelled=lambda: cancelled["now"])
    with pytest.raises(Cancelled):
        run_steps(validate_steps(STEPS[:1] + STEPS[2:]), source(), ctx)
    assert not any(m.startswith("Step 2/2") for m in seen)


def test_intermediate_files_are_removed_and_every_engine_credited(db, tmp_path: Path):
    scratch = tmp_path / "scratch"
    output = run_steps(validate_steps(STEPS), source(), Context(scratch_dir=scratch))

    assert output.path is not None
    assert [p.name for p in scratch.iterdir()] == [output.path.name]
    assert [part.split(":")[0] for part in output.engine.split("; ")] == [
        "resize",
        "compress",
        "rotate",
    ]
    image = pyvips.Image.new_from_file(str(output.path))
    assert (image.width, image.height) == (300, 200)


def test_a_failing_step_keeps_its_code_and_status(db, tmp_path: Path):
    crop = {"toolId": "crop", "settings": {"left": 500, "width": 200}}
    with pytest.raises(ToolError) as caught:
        run_steps(validate_steps([STEPS[0], crop]), source(), Context(scratch_dir=tmp_path))
    assert (caught.value.code, caught.value.status) == ("CROP_OUT_OF_BOUNDS", 400)
    assert caught.value.message.startswith("Step 2 (crop) failed after 1 completed step(s): ")


@pytest.mark.parametrize("inputs", [Inputs.TWO, Inputs.MANY, Inputs.NONE])
def test_tools_that_do_not_take_one_image_cannot_be_steps(db, fake_tool, inputs):
    fake_tool(inputs=inputs)
    with pytest.raises(ToolError) as caught:
        validate_steps([STEPS[0], {"toolId": "fake"}])
    assert caught.value.code == "PIPELINE_INVALID"
    assert caught.value.message.startswith("Step 2 (fake): ")


def test_experimental_tools_are_unknown_until_enabled(db, fake_tool):
    fake_tool(experimental=True)
    with pytest.raises(ToolError) as caught:
        validate_steps([{"toolId": "fake"}])
    assert (caught.value.code, caught.value.status) == ("TOOL_NOT_FOUND", 400)


def test_one_gpu_step_sends_the_pipeline_to_the_gpu_queue(user_client, settings, fake_tool):
    settings.GPU_QUEUE = True
    fake_tool(device="gpu")
    steps = [{"toolId": "fake", "settings": {"width": 100}}, STEPS[2]]
    photo = SimpleUploadedFile("photo.jpg", (FIXTURES / "photo.jpg").read_bytes())
    data = {"file": photo, "pipeline": json.dumps(steps)}

    response = user_client.post("/api/v1/pipeline/execute", data, format="multipart")

    assert response.status_code == 200
    assert Job.objects.get().queue == "gpu"


def test_a_tool_disabled_while_the_job_waited_fails_it(user):
    photo = SimpleUploadedFile("photo.jpg", (FIXTURES / "photo.jpg").read_bytes())
    job = create_job(user, Work(validate_steps(STEPS), uploads=[photo], pipeline=True))
    set_setting("disabledTools", ["rotate"])

    run_job(str(job.pk))

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_status) == ("failed", "TOOL_DISABLED", 403)
    assert job.error_message.startswith("Step 3 (rotate)")
