"""The small upscale service's API (seed 001) as its clients drive it: submit, poll
/status until "completed" or "failed", download once, cancel; its /models and /health
are ours. Real upscales on the shipped weights (django-q runs the jobs inline)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs import storage
from apps.jobs.models import Job
from tests.api.support import assert_error
from tests.badfiles import FIXTURES
from tests.shipped_models import shipped_models_dir

pytestmark = pytest.mark.django_db
FAST = "realesr-animevideov3"


@pytest.fixture
def models(settings) -> None:
    settings.MODELS_DIR = shipped_models_dir()


def crop_png(width: int, height: int) -> bytes:
    photo = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg"))
    return bytes(photo.crop(200, 100, width, height).pngsave_buffer())


def submit(client: Any, data: bytes | None = None, **fields: Any) -> Any:
    body: dict[str, Any] = {k: str(v) for k, v in fields.items()}
    if data is not None:
        body["image"] = SimpleUploadedFile("frame.png", data, "image/png")
    return client.post("/api/v1/upscale", body, format="multipart")


def poll(client: Any, job_id: str) -> dict[str, Any]:
    """What a client of the seed does: poll until "completed" or "failed"."""
    for _ in range(100):
        body = client.get(f"/api/v1/status/{job_id}").json()
        if body["status"] in ("completed", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"still {body['status']}")


def read(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_submit_poll_and_download_an_upscaled_image(user_client, models) -> None:
    response = submit(user_client, crop_png(64, 48), scale=2, model_name=FAST)

    assert response.status_code == 202, response.content[:300]
    body = response.json()
    assert set(body) == {"success", "job_id", "status_url"} and body["success"] is True
    assert body["status_url"] == f"/api/v1/status/{body['job_id']}"
    status = poll(user_client, body["job_id"])
    assert status["status"] == "completed" and status["progress"] == 100
    assert status["download_url"] == f"/api/v1/download/{body['job_id']}"
    assert status["input_size"] == {"width": 64, "height": 48}
    assert status["output_size"] == {"width": 128, "height": 96}
    assert isinstance(status["duration_seconds"], float) and status["duration_seconds"] > 0
    assert status["model"] == FAST

    download = user_client.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith('attachment; filename="frame_upscale.png"')
    data = read(download)
    assert len(data) == status["file_size_bytes"]
    image = pyvips.Image.new_from_buffer(data, "")
    assert (image.width, image.height) == (128, 96)


def test_the_result_is_deleted_after_its_first_complete_download(user_client, models) -> None:
    job_id = submit(user_client, crop_png(32, 32), scale=2, model_name=FAST).json()["job_id"]
    job = Job.objects.get(pk=job_id)
    assert storage.result_path(job) is not None

    assert len(read(user_client.get(f"/api/v1/download/{job_id}"))) > 0

    assert storage.result_path(job) is None  # gone from the disk
    assert_error(user_client.get(f"/api/v1/download/{job_id}"), 410, "RESULT_GONE")
    assert user_client.get(f"/api/v1/status/{job_id}").json()["status"] == "completed"


def close(response: Any) -> None:
    """End a response as the server does when the client goes. The test client wraps a
    streamed body in a generator whose close() closes the response while keeping the
    test's database connection (request_finished would close it, mid-transaction on
    PostgreSQL): close through it, as the test client itself does at the body's end."""
    if getattr(response, "streaming", False):
        response._iterator.close()  # the test client's closing_iterator_wrapper
    else:
        response.close()


def test_a_download_broken_off_before_its_end_keeps_the_result(user_client, models) -> None:
    job_id = submit(user_client, crop_png(32, 32), scale=2, model_name=FAST).json()["job_id"]
    job = Job.objects.get(pk=job_id)

    partial = user_client.get(f"/api/v1/download/{job_id}")
    next(iter(partial.streaming_content))  # the first chunk only, then the client goes
    close(partial)

    assert storage.result_path(job) is not None
    assert user_client.get(f"/api/v1/download/{job_id}").status_code == 200


def test_a_head_request_does_not_count_as_the_download(user_client, models) -> None:
    """`curl -I` reads the headers only: the result stays for the real download."""
    job_id = submit(user_client, crop_png(32, 32), scale=2, model_name=FAST).json()["job_id"]

    head = user_client.head(f"/api/v1/download/{job_id}")
    assert head.status_code == 200 and int(head["Content-Length"]) > 0
    close(head)

    assert storage.result_path(Job.objects.get(pk=job_id)) is not None
    assert len(read(user_client.get(f"/api/v1/download/{job_id}"))) == int(head["Content-Length"])


def test_format_and_tile_size_reach_the_tool(user_client, models) -> None:
    response = submit(
        user_client, crop_png(64, 64), scale=3, model_name=FAST, format="jpg", tile_size=32
    )
    job = Job.objects.get(pk=response.json()["job_id"])

    assert job.status == Job.Status.COMPLETED, job.error_message
    assert job.result_media_type == "image/jpeg" and job.result_name.endswith(".jpg")
    assert job.result_info["tileSize"] == 32 and job.result_info["tiles"] > 1
    assert job.result_info["nativeScale"] == 3


def test_the_default_is_realesrgan_x4plus_at_scale_4(user_client, models) -> None:
    job_id = submit(user_client, crop_png(16, 12)).json()["job_id"]

    status = poll(user_client, job_id)
    assert status["status"] == "completed", status
    assert status["model"] == "realesrgan-x4plus"
    assert status["output_size"] == {"width": 64, "height": 48}


def test_a_failed_job_reads_failed_with_its_error(user_client, settings, tmp_path) -> None:
    settings.MODELS_DIR = tmp_path / "no-models"
    job_id = submit(user_client, crop_png(32, 32), model_name=FAST).json()["job_id"]

    status = poll(user_client, job_id)
    assert status["status"] == "failed" and status["cancelled"] is False
    assert status["error_code"] == "MODEL_NOT_INSTALLED"
    assert "realesr-animevideov3" in status["error"]
    assert_error(user_client.get(f"/api/v1/download/{job_id}"), 503, "MODEL_NOT_INSTALLED")


def queued_job(owner: Any, **fields: Any) -> Job:
    return Job.objects.create(owner=owner, tool_id="upscale", **fields)


def test_a_queued_and_a_running_job_report_their_state(user_client, user) -> None:
    queued = queued_job(user)
    running = queued_job(user, status=Job.Status.PROCESSING, percent=45.7)

    assert user_client.get(f"/api/v1/status/{queued.pk}").json() == {
        "job_id": str(queued.pk), "status": "queued", "progress": 0, "queue_position": 1
    }  # fmt: skip
    assert user_client.get(f"/api/v1/status/{running.pk}").json() == {
        "job_id": str(running.pk), "status": "processing", "progress": 45
    }  # fmt: skip
    body = assert_error(user_client.get(f"/api/v1/download/{running.pk}"), 409, "JOB_NOT_FINISHED")
    assert "processing" in body["error"]


def test_cancel_a_queued_job_then_it_reads_failed_and_cancelled(user_client, user) -> None:
    job = queued_job(user)

    response = user_client.post(f"/api/v1/cancel/{job.pk}")
    assert response.status_code == 200
    assert response.json() == {"success": True, "job_id": str(job.pk), "status": "cancelled"}
    status = user_client.get(f"/api/v1/status/{job.pk}").json()
    assert status["status"] == "failed" and status["cancelled"] is True
    assert status["error_code"] == "JOB_CANCELLED"
    assert_error(user_client.post(f"/api/v1/cancel/{job.pk}"), 409, "JOB_FINISHED")


def test_cancel_a_running_job_asks_it_to_stop(user_client, user) -> None:
    job = queued_job(user, status=Job.Status.PROCESSING)

    assert user_client.post(f"/api/v1/cancel/{job.pk}").json()["status"] == "cancelling"
    job.refresh_from_db()
    assert job.cancel_requested is True


@pytest.mark.parametrize("route", ["status", "download", "cancel"])
def test_another_users_and_malformed_ids_are_404(user_client, other_user, admin_client, route):
    theirs = queued_job(other_user)
    method = "post" if route == "cancel" else "get"

    for job_id in (theirs.pk, "not-a-job-id", "1769781953720134401"):
        response = getattr(user_client, method)(f"/api/v1/{route}/{job_id}")
        assert_error(response, 404, "NOT_FOUND")
    assert getattr(admin_client, method)(f"/api/v1/{route}/{theirs.pk}").status_code != 404


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"scale": 5}, 400, "VALIDATION_ERROR"),
        ({"scale": "four"}, 400, "VALIDATION_ERROR"),
        ({"format": "gif"}, 400, "VALIDATION_ERROR"),
        ({"tile_size": 16}, 400, "VALIDATION_ERROR"),
        ({"tile_size": 2048}, 400, "VALIDATION_ERROR"),
        ({"tile_size": "auto"}, 400, "VALIDATION_ERROR"),
        ({"model_name": "u2netp"}, 400, "NOT_AN_UPSCALE_MODEL"),
        ({"model_name": "a..b"}, 400, "INVALID_MODEL_ID"),
        ({"model_name": "no-such-model"}, 404, "MODEL_NOT_FOUND"),
    ],
)
def test_bad_form_values_are_refused_before_any_job(user_client, fields, status, code) -> None:
    response = submit(user_client, crop_png(32, 32), **fields)

    body = assert_error(response, status, code)
    assert not Job.objects.exists()
    if code == "VALIDATION_ERROR":
        assert f"'{next(iter(fields))}'" in body["error"]


def test_a_missing_image_and_a_file_that_is_no_image_are_400(user_client) -> None:
    assert_error(submit(user_client, None, scale=2), 400, "NO_FILE")
    text = SimpleUploadedFile("notes.png", b"just some text, no image", "image/png")
    response = user_client.post("/api/v1/upscale", {"image": text}, format="multipart")
    assert_error(response, 400, "UNSUPPORTED_FORMAT")


def test_anonymous_callers_are_401(anon) -> None:
    assert_error(submit(anon, crop_png(32, 32)), 401, "AUTH_REQUIRED")
    assert_error(anon.get(f"/api/v1/status/{queued_job(None).pk}"), 401, "AUTH_REQUIRED")


def test_models_answers_the_services_shape_filtered_by_scale(user_client) -> None:
    everything = user_client.get("/api/v1/models").json()
    at_three = user_client.get("/api/v1/models?scale=3").json()

    assert isinstance(at_three["version"], str) and at_three["version"]
    names = [m["name"] for m in at_three["models"]]
    assert FAST in names and "realesrgan-x4plus" not in names
    for model in at_three["models"]:
        assert isinstance(model["description"], str) and model["description"]
        assert 3 in model["supported_scales"]
    listed = {m["name"]: m for m in everything["models"]}
    assert listed["realesrgan-x4plus"]["supported_scales"] == [4]
    assert listed[FAST]["supported_scales"] == [2, 3, 4]
    assert_error(user_client.get("/api/v1/models?scale=x"), 400, "VALIDATION_ERROR")


def test_health_answers_the_services_shape(anon, settings) -> None:
    body = anon.get("/api/v1/health").json()

    assert body["status"] == "ok" and body["version"] == settings.VERSION
    assert isinstance(body["time"], int) and abs(body["time"] - time.time()) < 60
