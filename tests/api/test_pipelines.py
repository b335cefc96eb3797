"""POST /api/v1/pipeline/execute and /batch: steps validated up front, then run as one job."""

import io
import json
import zipfile
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs.models import Job
from apps.siteconfig.registry import set_setting
from tests.api.support import error_message
from tests.badfiles import FIXTURES, text_as_jpeg, truncated_jpeg

RESIZE = {"toolId": "resize", "settings": {"width": 300}}
COMPRESS_WEBP = {"toolId": "compress", "settings": {"quality": 60, "format": "webp"}}
ROTATE = {"toolId": "rotate", "settings": {"angle": 90}}


def photo(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")


def execute(client: Any, steps: Any, file: Any = None, **extra: Any) -> Any:
    pipeline = steps if isinstance(steps, str) else json.dumps(steps)
    data = {"file": file or photo(), "pipeline": pipeline, **extra.pop("data", {})}
    return client.post("/api/v1/pipeline/execute", data, format="multipart", **extra)


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def image_of(response: Any) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(body_of(response), "")


def assert_nothing_ran(settings: Any) -> None:
    assert not Job.objects.exists()
    assert not (settings.DATA_DIR / "jobs").exists()


# --- running ---------------------------------------------------------------------------


def test_three_steps_run_in_order_and_return_the_last_image(user_client, user):
    response = execute(user_client, [RESIZE, COMPRESS_WEBP, ROTATE])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert 'filename="photo_pipeline.webp"' in response["Content-Disposition"]
    image = image_of(response)
    assert (image.width, image.height) == (200, 300)  # 600x400 -> 300x200 -> turned
    assert image.get("vips-loader").startswith("webp")
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert (job.kind, job.status, job.owner, job.tool_id) == (
        "pipeline",
        "completed",
        user,
        "pipeline",
    )
    assert (job.steps, job.each_file, job.pipeline_id) == (
        [RESIZE, COMPRESS_WEBP, ROTATE],
        False,
        None,
    )
    assert job.engine.startswith("resize: libvips ")
    assert "; compress: libvips" in job.engine and "; rotate: libvips" in job.engine
    assert response["X-Engine"] == job.engine


@pytest.mark.parametrize("how", [{"HTTP_PREFER": "respond-async"}, {"data": {"async": "true"}}])
def test_async_answers_202_and_the_result_downloads(user_client, how):
    response = execute(user_client, [RESIZE, ROTATE], **how)

    assert response.status_code == 202
    body = response.json()
    assert body["downloadUrl"] == f"/api/v1/jobs/{body['jobId']}/download"
    download = user_client.get(body["downloadUrl"])
    assert download.status_code == 200
    assert (image_of(download).width, Job.objects.get().kind) == (200, "pipeline")


def test_a_json_tool_may_end_a_pipeline(user_client):
    response = execute(user_client, [RESIZE, {"toolId": "info"}])

    assert response.status_code == 200
    data = response.json()
    assert (data["width"], data["height"]) == (300, 200)
    assert Job.objects.get(pk=response["X-Job-Id"]).status == "completed"


def test_a_step_failing_at_run_time_fails_the_job_naming_it(user_client):
    crop = {"toolId": "crop", "settings": {"left": 0, "top": 0, "width": 400, "height": 400}}
    response = execute(user_client, [{"toolId": "resize", "settings": {"width": 60}}, crop])

    message = error_message(response, 400, "CROP_OUT_OF_BOUNDS")
    assert message.startswith("Step 2 (crop) failed after 1 completed step(s): ")
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert (job.status, job.error_code, job.error_message) == (
        "failed",
        "CROP_OUT_OF_BOUNDS",
        message,
    )


def test_a_truncated_jpeg_is_422_corrupt_image(user_client):
    cut = SimpleUploadedFile("cut.jpg", truncated_jpeg(), "image/jpeg")
    response = execute(user_client, [RESIZE, ROTATE], file=cut)

    message = error_message(response, 422, "CORRUPT_IMAGE")
    assert message.startswith("Step 1 (resize) failed after 0 completed step(s)")
    assert Job.objects.get().status == "failed"


def test_a_file_that_is_not_an_image_is_refused_before_any_step(user_client):
    text = SimpleUploadedFile("photo.jpg", text_as_jpeg(), "image/jpeg")
    error_message(execute(user_client, [RESIZE], file=text), 400, "UNSUPPORTED_FORMAT")


def test_a_first_step_may_take_several_files_collage_then_resize(user_client, user):
    steps = [
        {"toolId": "collage", "settings": {"template": "row-2", "width": 400, "height": 200}},
        {"toolId": "resize", "settings": {"width": 100}},
    ]
    files = [photo("a.jpg"), photo("b.jpg")]
    data = {"files": files, "pipeline": json.dumps(steps)}

    response = user_client.post("/api/v1/pipeline/execute", data, format="multipart")

    assert response.status_code == 200, response.content[:300]
    assert 'filename="a_pipeline.png"' in response["Content-Disposition"]
    image = image_of(response)
    assert (image.width, image.height) == (100, 50)
    assert (
        response["X-Engine"].startswith("collage: ") and "; resize: libvips" in response["X-Engine"]
    )
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert job.input_names == ["a.jpg", "b.jpg"] and job.steps == steps


def test_a_several_files_step_after_the_first_is_refused(user_client, settings):
    steps = [RESIZE, {"toolId": "collage", "settings": {}}]
    response = execute(user_client, steps)
    message = error_message(response, 400, "PIPELINE_INVALID")
    assert message.startswith("Step 2 (collage): collage takes several files")
    assert_nothing_ran(settings)


def test_a_batch_cannot_start_with_a_several_files_step(user_client, settings):
    steps = [{"toolId": "collage", "settings": {}}, RESIZE]
    data = {"files": [photo(), photo()], "pipeline": json.dumps(steps)}
    response = user_client.post("/api/v1/pipeline/batch", data, format="multipart")
    message = error_message(response, 400, "PIPELINE_INVALID")
    assert message.startswith("Step 1 (collage): collage takes several files")
    assert_nothing_ran(settings)


def test_anonymous_callers_need_a_token(anon, db):
    error_message(execute(anon, [RESIZE]), 401, "AUTH_REQUIRED")


# --- validation: every step before anything runs ---------------------------------------


def test_twenty_one_steps_are_too_many(user_client, settings):
    message = error_message(execute(user_client, [ROTATE] * 21), 400, "TOO_MANY_STEPS")
    assert "20" in message
    assert_nothing_ran(settings)


def test_the_step_limit_follows_the_setting(user_client, settings):
    settings.MAX_PIPELINE_STEPS = 2
    error_message(execute(user_client, [ROTATE] * 3), 400, "TOO_MANY_STEPS")
    assert execute(user_client, [ROTATE] * 2).status_code == 200


def test_invalid_settings_in_step_three_are_named_and_nothing_runs(user_client, settings):
    bad = {"toolId": "compress", "settings": {"quality": 101}}
    response = execute(user_client, [RESIZE, ROTATE, bad])

    message = error_message(response, 400, "INVALID_SETTINGS")
    assert message == "Step 3 (compress): quality: Input should be less than or equal to 100"
    assert_nothing_ran(settings)


def test_an_unknown_tool_is_named(user_client, settings):
    message = error_message(
        execute(user_client, [RESIZE, {"toolId": "nope"}]), 400, "TOOL_NOT_FOUND"
    )
    assert message.startswith("Step 2 (nope)")
    assert_nothing_ran(settings)


def test_a_disabled_tool_is_403_naming_the_step(user_client, settings):
    set_setting("disabledTools", ["compress"])
    message = error_message(execute(user_client, [RESIZE, COMPRESS_WEBP]), 403, "TOOL_DISABLED")
    assert message.startswith("Step 2 (compress)")
    assert_nothing_ran(settings)


def test_a_json_tool_that_is_not_last_is_refused(user_client, settings):
    message = error_message(
        execute(user_client, [{"toolId": "info"}, RESIZE]), 400, "PIPELINE_INVALID"
    )
    assert message.startswith("Step 1 (info)") and "step 2 (resize)" in message
    assert_nothing_ran(settings)


@pytest.mark.parametrize(
    "pipeline",
    ["[{toolId", '{"toolId": "resize"}', "[]", '[{"settings": {}}]', '["resize"]'],
)
def test_a_malformed_pipeline_is_refused(user_client, settings, pipeline):
    error_message(execute(user_client, pipeline), 400, "PIPELINE_INVALID")
    assert_nothing_ran(settings)


def test_settings_that_are_not_an_object_are_refused(user_client):
    step = {"toolId": "resize", "settings": [300]}
    message = error_message(execute(user_client, [step]), 400, "INVALID_SETTINGS")
    assert message.startswith("Step 1 (resize): ")


def test_a_missing_pipeline_or_file_is_400(user_client, settings):
    response = user_client.post("/api/v1/pipeline/execute", {"file": photo()}, format="multipart")
    error_message(response, 400, "PIPELINE_INVALID")
    response = user_client.post(
        "/api/v1/pipeline/execute", {"pipeline": json.dumps([RESIZE])}, format="multipart"
    )
    error_message(response, 400, "NO_FILE")
    assert_nothing_ran(settings)


# --- batch -----------------------------------------------------------------------------


def post_batch(client: Any, steps: Any, names: list[str]) -> Any:
    data = {"files": [photo(name) for name in names], "pipeline": json.dumps(steps)}
    return client.post("/api/v1/pipeline/batch", data, format="multipart")


def test_a_batch_runs_the_chain_on_every_file_into_a_zip(user_client):
    response = post_batch(user_client, [RESIZE, COMPRESS_WEBP], ["a.jpg", "b.jpg", "c.jpg"])

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(body_of(response)))
    assert sorted(archive.namelist()) == [
        "a_pipeline.webp",
        "b_pipeline.webp",
        "c_pipeline.webp",
        "manifest.json",
    ]
    image = pyvips.Image.new_from_buffer(archive.read("b_pipeline.webp"), "")
    assert (image.width, image.height) == (300, 200)
    manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["total"], manifest["completed"], manifest["failed"]) == (3, 3, 0)
    assert [f["name"] for f in manifest["files"]] == ["a.jpg", "b.jpg", "c.jpg"]
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert (job.kind, job.status, job.items_total, job.items_done) == (
        "pipeline-batch",
        "completed",
        3,
        3,
    )
    assert job.engine.startswith("resize: libvips ")


def test_a_file_failing_in_a_batch_is_named_in_the_manifest(user_client, settings):
    # One file at a time: libvips' error buffer is process-wide, so a decode error
    # raised while another thread runs libvips may lose the text that marks it CORRUPT_IMAGE.
    settings.CONCURRENT_JOBS = 1
    files = [photo("a.jpg"), SimpleUploadedFile("cut.jpg", truncated_jpeg(), "image/jpeg")]
    data = {"files": files, "pipeline": json.dumps([RESIZE, ROTATE])}
    response = user_client.post("/api/v1/pipeline/batch", data, format="multipart")

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(body_of(response)))
    failed = json.loads(archive.read("manifest.json"))["files"][1]
    assert (failed["name"], failed["status"], failed["error"]["code"]) == (
        "cut.jpg",
        "failed",
        "CORRUPT_IMAGE",
    )
    assert failed["error"]["message"].startswith("Step 1 (resize) failed after 0 completed")
    assert "a_pipeline.jpg" in archive.namelist()


def test_a_batch_over_the_limit_is_refused_before_anything_runs(user_client, settings):
    settings.MAX_BATCH_SIZE = 2
    response = post_batch(user_client, [RESIZE], ["a.jpg", "b.jpg", "c.jpg"])
    error_message(response, 400, "TOO_MANY_FILES")
    assert_nothing_ran(settings)


def test_a_batch_validates_its_steps_first(user_client, settings):
    response = post_batch(user_client, [{"toolId": "info"}, RESIZE], ["a.jpg"])
    error_message(response, 400, "PIPELINE_INVALID")
    assert_nothing_ran(settings)
