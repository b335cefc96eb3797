"""The Jellyfin AI service's inference routes under /api/v1/ai/, driven as its clients
do: the seed's JSON base64 bodies, and the real plugin's raw JPEG/PNG frames with an
X-Api-Token header carrying one of our API keys. Real tools and shipped weights."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import pyvips
from django.utils import timezone
from rest_framework.test import APIClient

from apps.jobs.models import Job
from apps.models.models import WorkerModels
from tests.api.support import assert_error
from tests.badfiles import FIXTURES
from tests.shipped_models import shipped_models_dir

pytestmark = pytest.mark.django_db
FAST = "realesr-animevideov3"
BASE = "/api/v1/ai"


@pytest.fixture(autouse=True)
def models(settings) -> None:
    settings.MODELS_DIR = shipped_models_dir()


@pytest.fixture
def jellyfin(user, api_key_for) -> APIClient:
    """The plugin's client: only X-Api-Token, as AiServiceAuthHandler adds it."""
    client = APIClient()
    client.credentials(HTTP_X_API_TOKEN=api_key_for(user))
    return client


def crop(width: int, height: int, fmt: str = ".png") -> bytes:
    photo = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg"))
    return bytes(photo.crop(200, 100, width, height).write_to_buffer(fmt))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def decoded(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def post_json(client: Any, route: str, body: Any) -> Any:
    return client.post(f"{BASE}/{route}", body, format="json")


def post_raw(client: Any, route: str, data: bytes, content_type: str) -> Any:
    return client.generic("POST", f"{BASE}/{route}", data, content_type=content_type)


# --- upscale-frame -----------------------------------------------------------------------


def test_a_json_frame_comes_back_upscaled_in_base64(jellyfin) -> None:
    body = {"image": b64(crop(32, 24)), "model": FAST, "scale": 2}
    response = post_json(jellyfin, "upscale-frame", body)

    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    image = decoded(base64.b64decode(answer["image"]))
    assert (image.width, image.height) == (64, 48)
    assert answer["format"] == "png" and (answer["width"], answer["height"]) == (64, 48)
    assert (answer["input_width"], answer["input_height"]) == (32, 24)
    assert answer["model"] == FAST and answer["scale"] == 2
    assert answer["provider"] == "cpu" and answer["using_gpu"] is False
    assert "onnxruntime" in answer["engine"]
    assert answer["ms"] > 0 and answer["wall_ms"] >= answer["ms"]
    assert Job.objects.get(pk=answer["job_id"]).status == Job.Status.COMPLETED


def test_the_plugins_raw_jpeg_frame_comes_back_as_raw_jpeg(jellyfin) -> None:
    """HttpUpscalerService posts the JPEG bytes as application/octet-stream."""
    response = post_raw(
        jellyfin,
        f"upscale-frame?model={FAST}&scale=3",
        crop(24, 16, ".jpg"),
        "application/octet-stream",
    )

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/jpeg"
    image = decoded(response.content)
    assert (image.width, image.height) == (72, 48)
    assert response["X-Model"].startswith(FAST) and response["X-Device"] == "cpu"
    assert float(response["X-Processing-Ms"]) > 0


def test_a_browser_blob_png_without_options_uses_the_frame_model_at_its_smallest_scale(
    jellyfin,
) -> None:
    """player-integration.js posts canvas.toBlob() (a PNG) with no model or scale."""
    response = post_raw(jellyfin, "upscale-frame", crop(20, 20), "image/png")

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/jpeg"
    assert (decoded(response.content).width, decoded(response.content).height) == (40, 40)
    assert response["X-Model"].startswith(FAST)


def test_without_a_model_named_it_uses_the_upscale_model_a_worker_holds(jellyfin) -> None:
    WorkerModels.objects.create(
        worker="gpu-host:1", queue="gpu", seen_at=timezone.now(),
        loaded=[{"model": "realesrgan-x4plus-anime/realesrgan-x4plus-anime.onnx", "device": "gpu"}],
    )  # fmt: skip
    answer = post_json(jellyfin, "upscale-frame", {"image": b64(crop(16, 16))}).json()

    assert answer["model"] == "realesrgan-x4plus-anime" and answer["scale"] == 4
    assert (answer["width"], answer["height"]) == (64, 64)


def test_the_api_token_header_takes_an_api_key_and_refuses_others(jellyfin, user_client) -> None:
    body = {"image": b64(crop(16, 16)), "model": FAST, "scale": 2}
    assert post_json(jellyfin, "upscale-frame", body).status_code == 200
    assert post_json(user_client, "upscale-frame", body).status_code == 200  # our bearer too

    wrong = APIClient()
    wrong.credentials(HTTP_X_API_TOKEN="si_" + "0" * 96)
    assert_error(post_json(wrong, "upscale-frame", body), 401, "AUTH_INVALID")
    assert_error(post_json(APIClient(), "upscale-frame", body), 401, "AUTH_REQUIRED")


@pytest.mark.parametrize("model", ["a..b", ".hidden", "trail.", "x/y", "a b", "../etc"])
def test_model_ids_breaking_the_seeds_rule_are_400(jellyfin, model: str) -> None:
    body = {"image": b64(crop(16, 16)), "model": model}
    assert_error(post_json(jellyfin, "upscale-frame", body), 400, "INVALID_MODEL_ID")
    assert not Job.objects.exists()


def test_a_model_id_with_a_slash_in_a_path_is_a_json_404(jellyfin) -> None:
    assert_error(jellyfin.get("/api/v1/models/x/y"), 404, "NOT_FOUND")
    assert_error(jellyfin.post("/api/v1/models/x/y/load"), 404, "NOT_FOUND")


def test_unknown_and_non_upscale_models(jellyfin) -> None:
    image = b64(crop(16, 16))
    body = assert_error(
        post_json(jellyfin, "upscale-frame", {"image": image, "model": "rife-v4.9"}),
        404,
        "MODEL_NOT_FOUND",
    )
    assert FAST in body["error"]  # names the ones there are
    response = post_json(jellyfin, "upscale-frame", {"image": image, "model": "u2netp"})
    assert_error(response, 400, "NOT_AN_UPSCALE_MODEL")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"image": "%%% not base64 %%%"}, "INVALID_BASE64"),
        ({"image": b64(b"plain text, not an image")}, "UNSUPPORTED_FORMAT"),
        ({}, "VALIDATION_ERROR"),
        ({"image": b64(crop(16, 16)), "scale": 5}, "VALIDATION_ERROR"),
        ({"image": b64(crop(16, 16)), "format": "bmp"}, "VALIDATION_ERROR"),
        ([1, 2], "INVALID_REQUEST_BODY"),
    ],
)
def test_bad_bodies_are_400(jellyfin, body: Any, code: str) -> None:
    assert_error(post_json(jellyfin, "upscale-frame", body), 400, code)


def test_an_empty_raw_body_and_raw_text_are_400(jellyfin) -> None:
    assert_error(post_raw(jellyfin, "upscale-frame", b"", "image/jpeg"), 400, "NO_FILE")
    response = post_raw(jellyfin, "upscale-frame", b"hello", "application/octet-stream")
    assert_error(response, 400, "UNSUPPORTED_FORMAT")


# --- upscale-batch -----------------------------------------------------------------------


def test_a_batch_is_answered_in_order(jellyfin) -> None:
    frames = [b64(crop(w, 16)) for w in (16, 24, 32)]
    response = post_json(jellyfin, "upscale-batch", {"images": frames, "model": FAST, "scale": 2})

    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    assert answer["count"] == 3 and answer["failed"] == 0 and answer["provider"] == "cpu"
    widths = [decoded(base64.b64decode(image)).width for image in answer["images"]]
    assert widths == [32, 48, 64]
    assert [r["index"] for r in answer["results"]] == [0, 1, 2]
    assert [r["width"] for r in answer["results"]] == [32, 48, 64]
    assert Job.objects.filter(tool_id="upscale").count() == 3  # one job per frame


def test_a_batch_with_a_frame_that_is_no_image_is_400(jellyfin) -> None:
    frames = [b64(crop(16, 16)), b64(b"not an image")]
    response = post_json(jellyfin, "upscale-batch", {"images": frames, "model": FAST})
    assert_error(response, 400, "UNSUPPORTED_FORMAT")


def test_a_batch_where_every_frame_fails_answers_that_failure(jellyfin, settings, tmp_path) -> None:
    settings.MODELS_DIR = tmp_path / "none"
    frames = [b64(crop(16, 16)), b64(crop(16, 16))]
    response = post_json(jellyfin, "upscale-batch", {"images": frames, "model": FAST})
    assert_error(response, 503, "MODEL_NOT_INSTALLED")


@pytest.mark.parametrize("images", [[], "abc", None])
def test_a_batch_needs_a_list_of_frames(jellyfin, images: Any) -> None:
    assert_error(post_json(jellyfin, "upscale-batch", {"images": images}), 400, "VALIDATION_ERROR")


# --- benchmark-frame ---------------------------------------------------------------------


def test_the_plugins_benchmark_call_times_one_real_frame(jellyfin) -> None:
    """player-integration.js: GET Upscaler/benchmark-frame?width=&height=."""
    response = jellyfin.get(f"{BASE}/benchmark-frame?width=64&height=32&model={FAST}")

    assert response.status_code == 200, response.content[:300]
    bench = response.json()
    assert bench["fps"] > 0 and bench["avg_time_ms"] == bench["ms"] > 0
    assert (bench["capture_width"], bench["capture_height"]) == (64, 32)
    assert (bench["output_width"], bench["output_height"]) == (128, 64)
    assert bench["provider"] == "cpu" and bench["using_gpu"] is False
    assert bench["model"] == FAST and "onnxruntime" in bench["engine"]
    job = Job.objects.get(pk=bench["job_id"])
    assert job.device == bench["provider"] and job.status == Job.Status.COMPLETED


def test_a_posted_benchmark_may_bring_its_own_frame(jellyfin) -> None:
    body = {"image": b64(crop(20, 20)), "model": FAST, "scale": 3}
    bench = post_json(jellyfin, "benchmark-frame", body).json()
    assert (bench["capture_width"], bench["output_width"]) == (20, 60)


@pytest.mark.parametrize("query", ["width=8", "height=5000", "width=wide", "model=a..b"])
def test_benchmark_sizes_and_models_are_checked(jellyfin, query: str) -> None:
    response = jellyfin.get(f"{BASE}/benchmark-frame?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {"error", "code"}


# --- face-restore ------------------------------------------------------------------------


def test_detect_returns_the_astronauts_face(jellyfin) -> None:
    astronaut = (FIXTURES / "astronaut.png").read_bytes()
    response = post_json(jellyfin, "face-restore/detect", {"image": b64(astronaut)})

    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    assert answer["count"] == 1 and (answer["width"], answer["height"]) == (512, 512)
    face = answer["faces"][0]
    assert 160 <= face["x"] <= 190 and 55 <= face["y"] <= 95 and face["score"] > 0.8
    assert set(face["keypoints"]) >= {"right_eye", "left_eye", "nose_tip", "mouth_center"}
    assert answer["model"] == "mediapipe-face-detector" and answer["provider"] == "cpu"
    assert Job.objects.get(pk=answer["job_id"]).tool_id == "detect-faces"


def test_detect_on_a_raw_frame_without_faces_is_an_empty_list(jellyfin) -> None:
    response = post_raw(jellyfin, "face-restore/detect", crop(64, 48, ".jpg"), "image/jpeg")
    assert response.status_code == 200
    assert response.json()["faces"] == [] and response.json()["count"] == 0


def test_a_json_frame_larger_than_the_form_field_limit_is_taken(jellyfin, settings) -> None:
    """A 1080p frame is megabytes of base64: DATA_UPLOAD_MAX_MEMORY_SIZE (meant for form
    fields) must not cap a JSON body (apps/compat/parsers.py)."""
    noise = pyvips.Image.gaussnoise(1200, 1200, sigma=60).bandjoin(
        [pyvips.Image.gaussnoise(1200, 1200)] * 2
    )
    png = noise.cast("uchar").pngsave_buffer(compression=0)
    assert len(png) * 4 / 3 > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = post_json(jellyfin, "face-restore/detect", {"image": b64(png)})

    assert response.status_code == 200, response.content[:300]
    assert (response.json()["width"], response.json()["height"]) == (1200, 1200)


def test_detect_checks_its_sensitivity(jellyfin) -> None:
    body = {"image": b64(crop(32, 32)), "sensitivity": 3}
    body = assert_error(post_json(jellyfin, "face-restore/detect", body), 400, "INVALID_SETTINGS")
    assert "sensitivity" in body["error"]


@pytest.mark.parametrize(("model", "named"), [(None, "gfpgan-v1.4"), ("codeformer", "codeformer")])
def test_restore_without_a_face_model_installed_is_503_naming_it(jellyfin, model, named) -> None:
    astronaut = (FIXTURES / "astronaut.png").read_bytes()
    body = {"image": b64(astronaut), **({"model": model} if model else {})}
    error = assert_error(
        post_json(jellyfin, "face-restore/restore", body), 503, "MODEL_NOT_INSTALLED"
    )
    assert named in error["error"]


def test_the_pipeline_without_a_face_model_installed_is_503_naming_it(jellyfin) -> None:
    body = {"image": b64(crop(16, 16)), "model": FAST, "scale": 2}
    response = post_json(jellyfin, "face-restore/pipeline", body)
    assert "gfpgan-v1.4" in assert_error(response, 503, "MODEL_NOT_INSTALLED")["error"]


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("a..b", 400, "INVALID_MODEL_ID"),
        ("trail.", 400, "INVALID_MODEL_ID"),
        ("u2netp", 400, "NOT_A_FACE_MODEL"),
        ("restoreformer", 404, "MODEL_NOT_FOUND"),
    ],
)
def test_restore_model_names_are_checked(jellyfin, model: str, status: int, code: str) -> None:
    body = {"image": b64(crop(16, 16)), "model": model}
    assert_error(post_json(jellyfin, "face-restore/restore", body), status, code)


def test_every_route_wants_a_credential() -> None:
    for route in ("upscale-frame", "upscale-batch", "benchmark-frame", "face-restore/detect"):
        assert_error(post_json(APIClient(), route, {}), 401, "AUTH_REQUIRED")
