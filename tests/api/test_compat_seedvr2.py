"""SeedVR2's API (image side) as its own Python client drives it, plus its queue, GPU,
model and health routes. Real jobs (upscale + resize) on the shipped weights."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import pyvips
from django.utils import timezone
from rest_framework.test import APIClient

from apps.jobs.models import Job
from apps.models.models import UnloadRequest, WorkerModels
from tests.api.support import assert_error
from tests.badfiles import FIXTURES
from tests.shipped_models import shipped_models_dir
from tests.tools import video_support

pytestmark = pytest.mark.django_db
FAST = "realesr-animevideov3"


class SeedVR2Client:
    """The seed's `SeedVR2Client`, call for call; only the transport differs (Django's
    test client with an API key instead of `requests` against a base URL)."""

    def __init__(self, http: APIClient) -> None:
        self.http = http

    def health(self) -> Any:
        return self.http.get("/health").json()

    def gpu_status(self) -> Any:
        return self.http.get("/api/gpu/status").json()

    def list_models(self) -> Any:
        return self.http.get("/api/models").json()

    def switch_model(self, model_name: str) -> Any:
        return self.http.post("/api/models/switch", {"model": model_name}, format="json").json()

    def queue_status(self) -> Any:
        return self.http.get("/api/queue/status").json()

    def submit_task(self, file_path: Path, resolution=1080, batch_size=5, **kwargs) -> Any:
        with open(file_path, "rb") as f:
            data = {"resolution": resolution, "batch_size": batch_size, **kwargs}
            return self.http.post("/api/process", {"file": f, **data}, format="multipart").json()

    def task_status(self, task_id: str) -> Any:
        return self.http.get(f"/api/status/{task_id}").json()

    def wait_for_task(self, task_id: str, timeout=30, poll_interval=0.05) -> Any:
        start = time.time()
        while time.time() - start < timeout:
            status = self.task_status(task_id)
            if status["status"] in ["completed", "failed"]:
                return status
            time.sleep(poll_interval)
        raise TimeoutError(f"Task {task_id} timed out")

    def download(self, task_id: str, output_path: Path) -> Path:
        resp = self.http.get(f"/api/download/{task_id}")
        with open(output_path, "wb") as f:
            f.write(b"".join(resp.streaming_content))
        return output_path


@pytest.fixture(autouse=True)
def models(settings) -> None:
    settings.MODELS_DIR = shipped_models_dir()


@pytest.fixture
def client(user, api_key_for, client_for) -> SeedVR2Client:
    return SeedVR2Client(client_for(api_key_for(user)))


@pytest.fixture
def test_png(tmp_path: Path) -> Path:
    """48x32 of the photo (short edge 32), as the seed's test.png."""
    path = tmp_path / "test.png"
    pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(200, 100, 48, 32).pngsave(
        str(path)
    )
    return path


def size_of(path: Path) -> tuple[int, int]:
    image = pyvips.Image.new_from_file(str(path))
    return image.width, image.height


def test_the_seeds_python_client_end_to_end(client, test_png, tmp_path) -> None:
    assert client.health()["status"] == "healthy"
    assert {"cuda_available", "gpu_name", "vram_used_mb", "vram_total_mb"} <= set(
        client.gpu_status()
    )
    assert FAST in [m["name"] for m in client.list_models()["models"]]
    assert client.queue_status()["queue_length"] == 0

    result = client.submit_task(test_png, resolution=80, batch_size=1, dit_model=FAST)
    assert set(result) == {"status", "task_id", "queue_position", "estimated_wait_seconds"}
    final = client.wait_for_task(result["task_id"])

    assert final["status"] == "completed", final
    assert final["progress"] == 100 and final["output_resolution"] == "120x80"
    assert final["output_path"] == f"/api/download/{result['task_id']}"  # a URL, no path
    assert final["output_filename"].endswith(".png")
    assert final["params"] == {"tool": "pipeline", "dit_model": FAST, "scale": 3, "resolution": 80}
    assert final["completed_at"] and final["started_at"] and final["process_time"] >= 0
    output = client.download(result["task_id"], tmp_path / "output.png")
    assert size_of(output) == (120, 80)
    history = client.http.get("/api/queue/history").json()["history"]
    assert history[0]["id"] == result["task_id"] and history[0]["output_resolution"] == "120x80"


@pytest.mark.parametrize(
    ("resolution", "scale", "size"),
    [(64, 2, (96, 64)), (100, 4, (150, 100)), (200, 4, (300, 200))],
)
def test_the_smallest_native_scale_reaching_the_short_edge_then_an_exact_resize(
    client, test_png, resolution, scale, size
) -> None:
    task_id = client.submit_task(test_png, resolution=resolution, dit_model=FAST)["task_id"]

    job = Job.objects.get(pk=task_id)
    assert job.status == Job.Status.COMPLETED, job.error_message
    assert [s["toolId"] for s in job.steps] == ["upscale", "resize"]
    assert job.steps[0]["settings"]["scale"] == scale
    assert client.task_status(task_id)["output_resolution"] == f"{size[0]}x{size[1]}"


def test_a_jpeg_keeps_its_format_after_a_lossless_intermediate(client, tmp_path) -> None:
    path = tmp_path / "portrait.jpg"
    pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(0, 0, 24, 40).jpegsave(str(path))
    task_id = client.submit_task(path, resolution=48, dit_model=FAST)["task_id"]

    job = Job.objects.get(pk=task_id)
    assert job.steps[0]["settings"]["format"] == "png"
    assert job.result_media_type == "image/jpeg"
    assert client.task_status(task_id)["output_resolution"] == "48x80"  # width is short


def test_a_video_is_upscaled_by_the_video_tool_to_the_resolution(client, tmp_path) -> None:
    """The seed's own flow with a video: submit, wait, status, download."""
    clip = video_support.make(tmp_path, "clip.mp4", frames=8)  # 32x24, audio
    task_id = client.submit_task(clip, resolution=47, batch_size=5)["task_id"]  # 47: odd

    final = client.wait_for_task(task_id)
    assert final["status"] == "completed", final
    assert final["output_resolution"] == "64x48"  # the short edge, rounded up to even
    assert final["output_filename"].endswith(".mp4")
    assert Job.objects.get(pk=task_id).tool_id == "video-upscale"
    assert client.task_status(task_id)["params"]["resolution"] == 48
    video = video_support.probe(client.download(task_id, tmp_path / "out.mp4"))
    assert (video.width, video.height, video.frames) == (64, 48, 8)
    assert video.audio_seconds is not None


def test_a_broken_video_fails_with_the_reason_and_unknown_bytes_are_400(client, tmp_path):
    broken = tmp_path / "clip.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64)
    final = client.wait_for_task(client.submit_task(broken, resolution=48)["task_id"])
    assert final["status"] == "failed" and final["error_code"] in {"CORRUPT_VIDEO", "NOT_A_VIDEO"}

    junk = tmp_path / "input.mp4"
    junk.write_bytes(b"\x00" * 64)
    with open(junk, "rb") as f:
        response = client.http.post("/api/process", {"file": f}, format="multipart")
    assert_error(response, 400, "UNSUPPORTED_FORMAT")


def test_a_file_that_is_no_image_is_400(client, tmp_path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("no pixels here")
    with open(path, "rb") as f:
        response = client.http.post("/api/process", {"file": f}, format="multipart")
    assert_error(response, 400, "UNSUPPORTED_FORMAT")
    assert_error(client.http.post("/api/process", {}, format="multipart"), 400, "NO_FILE")


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"dit_model": "seedvr2_ema_3b_fp8_e4m3fn.safetensors"}, 404, "MODEL_NOT_FOUND"),
        ({"dit_model": "seedvr2_ema_7b-Q4_K_M.gguf"}, 404, "MODEL_NOT_FOUND"),
        ({"dit_model": "a..b"}, 400, "INVALID_MODEL_ID"),
        ({"dit_model": "u2netp"}, 400, "NOT_AN_UPSCALE_MODEL"),
        ({"resolution": "full-hd"}, 400, "VALIDATION_ERROR"),
        ({"resolution": 0}, 400, "VALIDATION_ERROR"),
        ({"batch_size": 0}, 400, "VALIDATION_ERROR"),
        ({"seed": "lucky"}, 400, "VALIDATION_ERROR"),
        ({"color_correction": "sepia"}, 400, "VALIDATION_ERROR"),
        ({"vae_tiling": "maybe"}, 400, "VALIDATION_ERROR"),
        ({"vae_quality": "ultra"}, 400, "VALIDATION_ERROR"),
        ({"resolution": 16000}, 400, "OUTPUT_TOO_LARGE"),
    ],
)
def test_bad_form_values_are_refused_before_any_job(client, test_png, fields, status, code):
    with open(test_png, "rb") as f:
        response = client.http.post("/api/process", {"file": f, **fields}, format="multipart")
    body = assert_error(response, status, code)
    assert not Job.objects.exists()
    if code == "MODEL_NOT_FOUND":
        assert FAST in body["error"] and "realesrgan-x4plus" in body["error"]


def test_seedvr2s_other_options_are_accepted(client, test_png) -> None:
    options = {"color_correction": "wavelet", "seed": 7, "vae_tiling": "on", "vae_quality": "low"}
    result = client.submit_task(test_png, resolution=64, batch_size=9, dit_model=FAST, **options)
    assert client.task_status(result["task_id"])["status"] == "completed"


def pipeline_job(owner: Any, **fields: Any) -> Job:
    steps = [
        {"toolId": "upscale", "settings": {"model": FAST, "scale": 2}},
        {"toolId": "resize", "settings": {"height": 720}},
    ]
    return Job.objects.create(owner=owner, tool_id="pipeline", steps=steps, **fields)


def test_queued_and_processing_tasks_and_their_positions(client, user, other_user) -> None:
    pipeline_job(other_user)
    queued = pipeline_job(user)
    running = pipeline_job(user, status=Job.Status.PROCESSING, percent=50.9)

    status = client.task_status(str(queued.pk))
    assert status["status"] == "queued" and status["queue_position"] == 2
    assert status["params"] == {
        "tool": "pipeline",
        "dit_model": FAST,
        "scale": 2,
        "resolution": 720,
    }
    assert "output_path" not in status and "completed_at" not in status
    assert client.task_status(str(running.pk))["progress"] == 50
    position = client.http.get(f"/api/queue/position/{queued.pk}").json()
    assert position == {
        "task_id": str(queued.pk),
        "status": "queued",
        "position": 2,
        "estimated_wait": 0,
    }
    running_position = client.http.get(f"/api/queue/position/{running.pk}").json()
    assert running_position["status"] == "processing" and running_position["position"] == 0

    queue = client.queue_status()
    assert queue["queue_length"] == 2  # the whole queue
    assert queue["pending_tasks"] == [{"task_id": str(queued.pk), "position": 2}]  # mine only
    assert queue["processing"] == {"task_id": str(running.pk), "progress": 50, "model": FAST}
    assert queue["processing_progress"] == 50
    download = client.http.get(f"/api/download/{queued.pk}")
    assert_error(download, 409, "JOB_NOT_FINISHED")


def test_a_cancelled_task_reads_failed(client, user) -> None:
    job = pipeline_job(user)
    client.http.post(f"/api/v1/jobs/{job.pk}/cancel")

    status = client.task_status(str(job.pk))
    assert status["status"] == "failed" and status["error"] == "cancelled"
    assert client.queue_status()["total_failed"] == 1


@pytest.mark.parametrize("route", ["status", "download", "queue/position"])
def test_another_users_and_malformed_task_ids_are_404(client, other_user, route) -> None:
    theirs = pipeline_job(other_user, status=Job.Status.COMPLETED, finished_at=timezone.now())
    for task_id in (theirs.pk, "abc12345", "../etc/passwd"):
        assert_error(client.http.get(f"/api/{route}/{task_id}"), 404, "NOT_FOUND")


def test_history_is_mine_newest_first_and_limited(client, user, other_user) -> None:
    now = timezone.now()
    older = pipeline_job(user, status=Job.Status.FAILED, finished_at=now, error_code="X")
    newer = pipeline_job(
        user, status=Job.Status.COMPLETED, finished_at=now + timezone.timedelta(seconds=5)
    )
    pipeline_job(other_user, status=Job.Status.COMPLETED, finished_at=now)
    pipeline_job(user)  # not finished

    history = client.http.get("/api/queue/history").json()["history"]
    assert [h["id"] for h in history] == [str(newer.pk), str(older.pk)]
    assert history[1]["status"] == "failed" and history[0]["output_resolution"] is None
    limited = client.http.get("/api/queue/history?limit=1").json()["history"]
    assert [h["id"] for h in limited] == [str(newer.pk)]
    for bad in ("0", "101", "many"):
        assert_error(client.http.get(f"/api/queue/history?limit={bad}"), 400, "VALIDATION_ERROR")


def worker_holding(*models: str) -> None:
    loaded = [{"model": f"{m}/{m}.onnx", "device": "cpu", "pinned": True} for m in models]
    WorkerModels.objects.create(
        worker="host:42", queue="cpu", loaded=loaded, seen_at=timezone.now()
    )


def test_gpu_status_reports_the_runtime(client, user, admin_user) -> None:
    worker_holding("u2netp", FAST)
    load = [{"toolId": "model-load", "settings": {"model": "realesrgan-x4plus"}}]
    Job.objects.create(owner=admin_user, tool_id="model-load", steps=load)
    mine = pipeline_job(user, status=Job.Status.PROCESSING)

    gpu = client.gpu_status()
    assert gpu["model_loaded"] is True and gpu["current_model"] == FAST
    assert gpu["loaded_models"] == [FAST, "u2netp"]
    assert gpu["loading"] is True and gpu["loading_model"] == "realesrgan-x4plus"
    assert gpu["processing"] is True and gpu["current_task"] == str(mine.pk)
    assert isinstance(gpu["vram_total_mb"], int)
    assert gpu["cuda_available"] is False or gpu["gpu_name"]  # no CUDA without a GPU


def test_offload_asks_every_worker_to_unload_every_model(admin_client, user_client) -> None:
    worker_holding("u2netp", FAST)
    assert_error(user_client.post("/api/gpu/offload"), 403, "FORBIDDEN")

    answer = admin_client.post("/api/gpu/offload").json()
    assert answer["status"] == "success" and answer["models"] == [FAST, "u2netp"]
    assert sorted(UnloadRequest.objects.values_list("model_id", flat=True)) == [FAST, "u2netp"]


def test_models_lists_our_upscalers_in_seedvr2s_shape(client) -> None:
    worker_holding(FAST)
    listing = client.list_models()

    names = [m["name"] for m in listing["models"]]
    assert names == [
        "realesrgan-x4plus", "realesrgan-x4plus-anime", FAST, "realcugan-se-conservative"
    ]  # fmt: skip
    assert listing["default"] == "realesrgan-x4plus" and listing["current"] == FAST
    assert listing["loading"] is False and listing["loading_model"] is None
    x4plus = listing["models"][0]
    assert x4plus["params"] == "~16.7M" and x4plus["precision"] == "FP32"  # Real-ESRGAN's 16.7M
    assert x4plus["size"] == "63.8MB" and x4plus["desc"]["en"].startswith("Real-ESRGAN x4plus")
    assert listing["models"][2]["variant"] == "x2/x3/x4"
    assert listing["models"][3]["precision"] == "FP16"


def test_switch_loads_the_model_as_a_job(admin_user, api_key_for, client_for) -> None:
    admin = SeedVR2Client(client_for(api_key_for(admin_user)))
    answer = admin.switch_model(FAST)

    assert answer["status"] == "loading" and answer["model"] == FAST
    job = Job.objects.get(pk=answer["job_id"])
    assert job.tool_id == "model-load" and job.steps[0]["settings"] == {"model": FAST}
    assert job.status == Job.Status.COMPLETED, job.error_message  # loaded (inline in tests)
    assert job.result_json["model"] == FAST


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("seedvr2_ema_7b_sharp_fp16.safetensors", 404, "MODEL_NOT_FOUND"),
        ("realcugan-se-conservative", 409, "MODEL_NOT_LOADABLE"),
        (".hidden", 400, "INVALID_MODEL_ID"),
        (None, 400, "VALIDATION_ERROR"),
    ],
)
def test_switch_refuses_what_it_cannot_load(admin_client, model, status, code) -> None:
    response = admin_client.post("/api/models/switch", {"model": model}, format="json")
    assert_error(response, status, code)


def test_switch_and_offload_are_for_admins(user_client) -> None:
    response = user_client.post("/api/models/switch", {"model": FAST}, format="json")
    assert_error(response, 403, "FORBIDDEN")


def test_health_is_public_and_counts_the_queue(anon, user, settings) -> None:
    pipeline_job(user)
    health = anon.get("/health").json()

    assert health["status"] == "healthy" and health["version"] == settings.VERSION
    assert health["queue_enabled"] is True and health["queue_length"] == 1
    assert health["timestamp"].startswith(str(timezone.now().year))


def test_everything_but_health_wants_a_credential(anon) -> None:
    for route in ("/api/gpu/status", "/api/models", "/api/queue/status", "/api/queue/history"):
        assert_error(anon.get(route), 401, "AUTH_REQUIRED")
    assert_error(anon.post("/api/process", {}, format="multipart"), 401, "AUTH_REQUIRED")
