"""Automatic1111's /sdapi/v1 upscaling API, driven the way its public clients drive it.

The request bodies are copied from two real clients:
- the `webuiapi` package 0.9.17 (`pip download --no-deps webuiapi`),
  webuiapi/webuiapi.py: WebUIApi.extra_single_image and WebUIApi.extra_batch_images,
  whose images are `b64_img(image)` = "data:image/png;base64," + base64 of a PNG;
- openOutpaint (github.com/zero01101/openOutpaint), js/index.js, upscaleAndDownload():
  POST `host + "/sdapi/v1/extra-single-image/"` with `{"resize-mode": 0,
  upscaling_resize: <localStorage string>, upscaler_1, image: canvas.toDataURL()}`.

Real tools, the shipped weights, real codecs; images are compared by size and
similarity, never by bytes. The fastest model (realesr-animevideov3) and Lanczos keep it
quick.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import pyvips
import yaml

from apps.jobs.models import Job
from tests.api.support import assert_error
from tests.badfiles import FIXTURES, png_claiming, text_as_jpeg
from tests.shipped_models import shipped_models_dir

pytestmark = pytest.mark.django_db

ANIME = "R-ESRGAN AnimeVideo"  # A1111's name for realesr-animevideov3
A1111_UPSCALER_FIELDS = {"name", "model_name", "model_path", "model_url", "scale"}
A1111_STATE_KEYS = {
    "skipped",
    "interrupted",
    "job",
    "job_count",
    "job_timestamp",
    "job_no",
    "sampling_step",
    "sampling_steps",
}


# --- the clients' bodies ---------------------------------------------------------------


def webuiapi_single(image: str, **overrides: Any) -> dict[str, Any]:
    """webuiapi 0.9.17 WebUIApi.extra_single_image's payload, with its defaults."""
    payload = {
        "resize_mode": 0,
        "show_extras_results": True,
        "gfpgan_visibility": 0,
        "codeformer_visibility": 0,
        "codeformer_weight": 0,
        "upscaling_resize": 2,
        "upscaling_resize_w": 512,
        "upscaling_resize_h": 512,
        "upscaling_crop": True,
        "upscaler_1": "None",
        "upscaler_2": "None",
        "extras_upscaler_2_visibility": 0,
        "upscale_first": False,
        "image": image,
    }
    return {**payload, **overrides}


def webuiapi_batch(images: list[str], **overrides: Any) -> dict[str, Any]:
    """webuiapi 0.9.17 WebUIApi.extra_batch_images's payload (default names image00001...)."""
    payload = webuiapi_single("", **overrides)
    del payload["image"]
    names = [f"image{i + 1:05}" for i in range(len(images))]
    payload["imageList"] = [{"data": d, "name": n} for d, n in zip(images, names, strict=True)]
    return payload


def openoutpaint(image: str, upscaler: str, factor: str) -> dict[str, Any]:
    """openOutpaint's js/index.js upscaleAndDownload() body (the factor comes from
    localStorage, so a string; "resize-mode" is a key A1111 ignores)."""
    return {"resize-mode": 0, "upscaling_resize": factor, "upscaler_1": upscaler, "image": image}


# --- helpers ---------------------------------------------------------------------------


def photo(width: int, height: int, left: int = 200, top: int = 100) -> pyvips.Image:
    return pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(left, top, width, height)


def b64_img(image: pyvips.Image) -> str:
    """webuiapi's b64_img: a data: URL of the PNG."""
    return "data:image/png;base64," + base64.b64encode(image.pngsave_buffer()).decode()


def raw_b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def decoded(b64: str) -> pyvips.Image:
    """A result: raw PNG base64 (A1111 sends no data: prefix)."""
    assert not b64.startswith("data:")
    data = base64.b64decode(b64, validate=True)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return pyvips.Image.new_from_buffer(data, "")


def mean_difference(a: pyvips.Image, b: pyvips.Image) -> float:
    assert (a.width, a.height) == (b.width, b.height)
    return float((a[0:3].cast("float") - b[0:3].cast("float")).abs().avg())


def reduced_to(image: pyvips.Image, like: pyvips.Image) -> pyvips.Image:
    return image.resize(like.width / image.width, vscale=like.height / image.height)


def post(client: Any, route: str, body: dict[str, Any]) -> Any:
    return client.post(f"/sdapi/v1/{route}", body, format="json")


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def models(settings) -> None:
    settings.MODELS_DIR = shipped_models_dir()


@pytest.fixture
def basic(user, api_key_for, client_for) -> Any:
    """alice as an A1111 client knows her: --api-auth alice:<API key> (HTTP Basic)."""
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=basic_header("alice", api_key_for(user)))
    return client


# --- extra-single-image ----------------------------------------------------------------


def test_webuiapi_single_image_upscales_by_a_fractional_factor_in_one_job(basic, models):
    source = photo(32, 24)
    response = post(
        basic,
        "extra-single-image",
        webuiapi_single(b64_img(source), upscaling_resize=1.5, upscaler_1=ANIME),
    )

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert set(body) == {"image", "html_info"}
    result = decoded(body["image"])
    assert (result.width, result.height) == (48, 36)
    assert mean_difference(reduced_to(result, source), source) < 10
    job = Job.objects.get()  # one pipeline job: the model at x2, then Lanczos3 to x1.5
    assert [s["toolId"] for s in job.steps] == ["upscale", "resize"]
    assert job.steps[0]["settings"]["scale"] == 2
    assert job.steps[0]["settings"]["model"] == "realesr-animevideov3"
    info = body["html_info"]
    assert info.startswith("<p>Postprocess upscale by: 1.5, Postprocess upscaler: R-ESRGAN")
    assert "realesr-animevideov3-x2.onnx" in info and "onnxruntime" in info
    assert "Device: cpu" in info and str(job.pk) in info
    assert "realesr-animevideov3" in response["X-Model"] and response["X-Device"] == "cpu"


def test_openoutpaint_body_with_a_trailing_slash_and_the_factor_as_a_string(basic, models):
    source = photo(32, 24)
    body = openoutpaint(b64_img(source), ANIME, "2")
    response = post(basic, "extra-single-image/", body)

    assert response.status_code == 200, response.content[:300]
    result = decoded(response.json()["image"])
    assert (result.width, result.height) == (64, 48)
    job = Job.objects.get()  # the model's own x2 is the size asked: no resize step
    assert [s["toolId"] for s in job.steps] == ["upscale"] and job.tool_id == "upscale"


def test_a_factor_above_the_models_largest_scale_runs_it_at_x4_then_resizes(basic, models):
    response = post(
        basic,
        "extra-single-image",
        webuiapi_single(b64_img(photo(16, 12)), upscaling_resize=5, upscaler_1=ANIME),
    )

    assert response.status_code == 200, response.content[:300]
    result = decoded(response.json()["image"])
    assert (result.width, result.height) == (80, 60)
    steps = Job.objects.get().steps
    assert steps[0]["settings"]["scale"] == 4 and steps[1]["settings"]["width"] == 80


@pytest.mark.parametrize("name", ["lanczos", " LANCZOS ", "Nearest", "realesr-animevideov3"])
def test_upscaler_names_match_case_insensitively_and_our_ids_work(basic, models, name):
    source = photo(24, 16)
    body = webuiapi_single(b64_img(source), upscaler_1=name)
    response = post(basic, "extra-single-image", body)

    assert response.status_code == 200, response.content[:300]
    result = decoded(response.json()["image"])
    assert (result.width, result.height) == (48, 32)
    assert mean_difference(reduced_to(result, source), source) < 10


def test_nearest_says_honestly_that_lanczos3_served_it(basic):
    body = webuiapi_single(b64_img(photo(24, 16)), upscaler_1="Nearest")
    info = post(basic, "extra-single-image", body).json()["html_info"]

    assert "served by libvips Lanczos3" in info
    assert "resize: libvips" in info


def test_resize_mode_1_scales_to_cover_then_crops_the_centre(basic):
    source = photo(32, 48)
    body = webuiapi_single(
        b64_img(source),
        resize_mode=1,
        upscaling_resize_w=64,
        upscaling_resize_h=64,
        upscaler_1="Lanczos",
    )
    response = post(basic, "extra-single-image", body)

    assert response.status_code == 200, response.content[:300]
    result = decoded(response.json()["image"])
    assert (result.width, result.height) == (64, 64)
    reference = source.resize(2, kernel="lanczos3").crop(0, 16, 64, 64)  # 64x96, centre rows
    assert mean_difference(result, reference) < 3
    assert (
        "Postprocess upscale to: 64x64, Postprocess crop to: 64x64" in response.json()["html_info"]
    )


def test_resize_mode_1_without_crop_keeps_the_whole_image_and_takes_strings(basic):
    source = photo(32, 48)
    body = webuiapi_single(
        b64_img(source),
        resize_mode="1",
        upscaling_crop="false",
        upscaling_resize_w="64",
        upscaling_resize_h="64",
        upscaler_1="Lanczos",
        show_extras_results="true",
        extras_upscaler_2_visibility="0",
    )
    response = post(basic, "extra-single-image", body)

    assert response.status_code == 200, response.content[:300]
    result = decoded(response.json()["image"])
    assert (result.width, result.height) == (64, 96)  # scaled by max(64/32, 64/48) = 2
    assert mean_difference(reduced_to(result, source), source) < 6


def test_upscaler_2_is_blended_over_the_first_by_its_visibility(basic, models):
    image = b64_img(photo(24, 16))
    first = decoded(
        post(basic, "extra-single-image", webuiapi_single(image, upscaler_1=ANIME)).json()["image"]
    )
    second = decoded(
        post(basic, "extra-single-image", webuiapi_single(image, upscaler_1="Lanczos")).json()[
            "image"
        ]
    )
    Job.objects.all().delete()
    body = webuiapi_single(
        image, upscaler_1=ANIME, upscaler_2="Lanczos", extras_upscaler_2_visibility=0.25
    )
    response = post(basic, "extra-single-image", body)

    assert response.status_code == 200, response.content[:300]
    blended = decoded(response.json()["image"])
    expected = first.cast("float") * 0.75 + second.cast("float") * 0.25  # Image.blend
    assert mean_difference(blended, expected) < 1.0
    assert mean_difference(blended, first) > 0.5  # the second upscaler really counts
    assert sorted(Job.objects.values_list("tool_id", flat=True)) == ["compose", "resize", "upscale"]
    assert (
        "Postprocess upscaler 2: Lanczos (libvips Lanczos3) at 0.25" in response.json()["html_info"]
    )


def test_upscaler_none_returns_the_image_unchanged_as_png(basic):
    jpeg = photo(40, 30).jpegsave_buffer()
    body = webuiapi_single("data:image/jpeg;base64," + raw_b64(jpeg), upscaler_2="Lanczos")
    response = post(basic, "extra-single-image", body)

    assert response.status_code == 200, response.content[:300]
    result = decoded(response.json()["image"])
    assert (result.width, result.height) == (40, 30)
    assert mean_difference(result, pyvips.Image.new_from_buffer(jpeg, "")) < 1
    assert "Postprocess upscaler" not in response.json()["html_info"]


def test_an_image_may_come_as_raw_base64_or_as_a_multipart_file(basic):
    png = photo(20, 10).pngsave_buffer()
    as_raw = post(basic, "extra-single-image", {"image": raw_b64(png), "upscaler_1": "Lanczos"})
    fields = {"image": _upload(png), "upscaler_1": "Lanczos", "upscaling_resize": "3"}
    as_file = basic.post("/sdapi/v1/extra-single-image", fields, format="multipart")

    assert decoded(as_raw.json()["image"]).width == 40
    assert decoded(as_file.json()["image"]).width == 60


def _upload(data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("canvas.png", data, "image/png")


def test_a_json_body_larger_than_the_form_field_limit_is_taken(basic, settings):
    """Real A1111 images are megabytes of base64; DATA_UPLOAD_MAX_MEMORY_SIZE (for form
    fields) must not cap a JSON body."""
    noise = pyvips.Image.gaussnoise(1200, 1200, sigma=60).bandjoin(
        [pyvips.Image.gaussnoise(1200, 1200)] * 2
    )
    png = noise.cast("uchar").pngsave_buffer(compression=0)
    assert len(png) * 4 / 3 > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = post(basic, "extra-single-image", {"image": raw_b64(png)})

    assert response.status_code == 200, response.content[:300]
    assert decoded(response.json()["image"]).width == 1200


# --- face restoration ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "model"),
    [("gfpgan_visibility", "gfpgan-v1.4"), ("codeformer_visibility", "codeformer")],
)
def test_face_restoration_without_its_model_is_503_before_any_job(basic, models, field, model):
    body = webuiapi_single(b64_img(photo(24, 16)), upscaler_1=ANIME, **{field: "0.5"})
    message = assert_error(post(basic, "extra-single-image", body), 503, "MODEL_NOT_INSTALLED")[
        "error"
    ]

    assert f"'{model}'" in message and "download" in message
    assert not Job.objects.exists()


def test_face_restorers_lists_gfpgan_and_codeformer_as_not_installed(basic):
    for path in ("/sdapi/v1/face-restorers", "/sdapi/v1/face-restorers/"):
        response = basic.get(path)
        assert response.status_code == 200
        items = response.json()
        assert [i["name"] for i in items] == ["GFPGAN", "CodeFormer"]
        assert all("cmd_dir" in i and i["installed"] is False for i in items)
        assert [i["model"] for i in items] == ["gfpgan-v1.4", "codeformer"]


# --- upscalers -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sdapi/v1/upscalers", "/sdapi/v1/upscalers/"])
def test_upscalers_lists_a1111_names_and_our_model_ids(basic, models, path):
    response = basic.get(path)

    assert response.status_code == 200
    items = {i["name"]: i for i in response.json()}
    assert list(items)[:3] == ["None", "Lanczos", "Nearest"]
    assert all(set(i) >= A1111_UPSCALER_FIELDS for i in items.values())
    for a1111, ours in [
        ("R-ESRGAN 4x+", "realesrgan-x4plus"),
        ("R-ESRGAN 4x+ Anime6B", "realesrgan-x4plus-anime"),
        ("R-ESRGAN AnimeVideo", "realesr-animevideov3"),
    ]:
        assert items[a1111]["model_name"] == ours and items[a1111]["scale"] == 4.0
        assert items[ours]["model_name"] == ours and items[ours]["installed"] is True
    assert items["realcugan-se-conservative"]["model_path"] == "realcugan-se-conservative"
    assert items["Lanczos"]["model_name"] is None and items["Lanczos"]["scale"] is None


def test_a_model_not_installed_is_listed_as_such(basic, settings, tmp_path):
    settings.MODELS_DIR = tmp_path
    items = {i["name"]: i for i in basic.get("/sdapi/v1/upscalers").json()}

    assert (
        items["R-ESRGAN 4x+"]["installed"] is False and items["R-ESRGAN 4x+"]["model_path"] is None
    )


@pytest.mark.parametrize("field", ["upscaler_1", "upscaler_2"])
def test_an_unknown_upscaler_is_404_listing_the_valid_names(basic, field):
    body = webuiapi_single(b64_img(photo(16, 16)), **{"upscaler_1": "Lanczos", field: "ESRGAN_4x"})
    message = assert_error(post(basic, "extra-single-image", body), 404, "UPSCALER_NOT_FOUND")[
        "error"
    ]

    assert field in message and "'ESRGAN_4x'" in message and "R-ESRGAN AnimeVideo" in message
    assert not Job.objects.exists()


# --- bad requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "status", "code"),
    [
        ("data:image/png;base64,not*base64*at*all", 400, "INVALID_BASE64"),
        (raw_b64(text_as_jpeg()), 400, "UNSUPPORTED_FORMAT"),
        (raw_b64(png_claiming(40000, 40000)), 413, "IMAGE_TOO_LARGE"),
        ("https://169.254.169.254/latest/meta-data.png", 400, "URL_NOT_SUPPORTED"),
        ("", 400, "VALIDATION_ERROR"),
    ],
    ids=["bad-base64", "not-an-image", "decompression-bomb", "url", "empty"],
)
def test_a_bad_image_is_refused_before_any_job(basic, image, status, code):
    response = post(basic, "extra-single-image", webuiapi_single(image, upscaler_1="Lanczos"))

    assert_error(response, status, code)
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"upscaling_resize": 1000}, "OUTPUT_TOO_LARGE"),
        (
            {"resize_mode": 1, "upscaling_resize_w": 20000, "upscaling_resize_h": 8},
            "OUTPUT_TOO_LARGE",
        ),
        ({"upscaling_resize": "1e400"}, "VALIDATION_ERROR"),
        ({"upscaling_resize": 0}, "VALIDATION_ERROR"),
        ({"resize_mode": 2}, "VALIDATION_ERROR"),
        ({"gfpgan_visibility": 1.5}, "VALIDATION_ERROR"),
        ({"upscaling_crop": "perhaps"}, "VALIDATION_ERROR"),
    ],
)
def test_bad_settings_are_400_before_any_job(basic, overrides, code):
    body = webuiapi_single(b64_img(photo(32, 32)), upscaler_1="Lanczos", **overrides)

    assert_error(post(basic, "extra-single-image", body), 400, code)
    assert not Job.objects.exists()


def test_a_models_own_output_over_the_pixel_limit_is_refused_before_any_job(basic, settings):
    settings.MAX_MEGAPIXELS = 1
    source = b64_img(photo(400, 400, left=0, top=0))
    body = webuiapi_single(source, upscaler_1=ANIME, upscaling_resize=2.1)  # 840x840 at x3
    message = assert_error(post(basic, "extra-single-image", body), 400, "OUTPUT_TOO_LARGE")[
        "error"
    ]

    assert "model's x3 output would be 1200x1200 px" in message
    assert not Job.objects.exists()


def test_a_body_that_is_not_an_object_is_400(basic):
    response = basic.post("/sdapi/v1/extra-single-image", [1, 2], format="json")

    assert_error(response, 400, "VALIDATION_ERROR")


# --- extra-batch-images ----------------------------------------------------------------


def test_webuiapi_batch_answers_each_image_in_order(basic):
    wide, tall = photo(32, 24), photo(24, 32, left=300, top=300)
    body = webuiapi_batch([b64_img(wide), b64_img(tall)], upscaler_1="Lanczos", upscaling_resize=2)
    response = post(basic, "extra-batch-images", body)

    assert response.status_code == 200, response.content[:300]
    results = [decoded(b64) for b64 in response.json()["images"]]
    assert [(r.width, r.height) for r in results] == [(64, 48), (48, 64)]
    for result, source in zip(results, (wide, tall), strict=True):
        assert mean_difference(reduced_to(result, source), source) < 6
    assert Job.objects.count() == 2
    assert response.json()["html_info"].startswith("<p>Postprocess upscale by: 2")


def test_a_batch_with_a_bad_image_names_it_and_runs_nothing(basic):
    body = webuiapi_batch([b64_img(photo(16, 16)), raw_b64(text_as_jpeg())], upscaler_1="Lanczos")
    message = assert_error(post(basic, "extra-batch-images/", body), 400, "UNSUPPORTED_FORMAT")[
        "error"
    ]

    assert "imageList[1] (image00002)" in message
    assert not Job.objects.exists()


def test_a_batch_whose_second_result_is_too_large_runs_nothing(basic, settings):
    settings.MAX_MEGAPIXELS = 1
    images = [b64_img(photo(16, 16)), b64_img(photo(600, 400, left=0, top=0))]
    body = webuiapi_batch(images, upscaler_1="Lanczos", upscaling_resize=2.5)
    message = assert_error(post(basic, "extra-batch-images", body), 400, "OUTPUT_TOO_LARGE")[
        "error"
    ]

    assert message.startswith("imageList[1] (image00002): The result would be 1500x1000 px")
    assert not Job.objects.exists()


def test_a_batch_over_max_batch_size_is_400(basic, settings):
    settings.MAX_BATCH_SIZE = 2
    body = webuiapi_batch([b64_img(photo(8, 8))] * 3, upscaler_1="Lanczos")

    assert_error(post(basic, "extra-batch-images", body), 400, "TOO_MANY_FILES")


def test_an_empty_batch_answers_no_images(basic):
    response = post(basic, "extra-batch-images", webuiapi_batch([], upscaler_1="Lanczos"))

    assert response.status_code == 200
    assert response.json()["images"] == []


# --- auth ------------------------------------------------------------------------------


def test_anonymous_is_401_asking_for_basic(anon):
    for method, path in [("get", "/sdapi/v1/upscalers"), ("post", "/sdapi/v1/extra-single-image")]:
        response = getattr(anon, method)(path, {}, format="json")
        assert_error(response, 401, response.json()["code"])
        assert response["WWW-Authenticate"].startswith("Basic")


def test_basic_with_a_wrong_key_is_401(client_for, user, api_key_for):
    api_key_for(user)
    client = client_for(None)
    for password in ("si_" + "0" * 60, "not-a-key"):
        client.credentials(HTTP_AUTHORIZATION=basic_header("alice", password))
        assert_error(client.get("/sdapi/v1/upscalers"), 401, "AUTH_INVALID")


def test_a_bearer_api_key_works_too(user, api_key_for, client_for):
    response = client_for(api_key_for(user)).get("/sdapi/v1/progress")

    assert response.status_code == 200


# --- progress and interrupt -----------------------------------------------------------


def test_progress_when_idle_is_zero_with_a1111s_state_keys(basic):
    body = basic.get("/sdapi/v1/progress/").json()

    assert body["progress"] == 0 and body["eta_relative"] == 0
    assert set(body["state"]) >= A1111_STATE_KEYS and body["state"]["job_count"] == 0
    assert body["current_image"] is None


def test_progress_reports_the_callers_running_job_not_other_users(basic, user, other_user):
    Job.objects.create(
        owner=other_user, tool_id="upscale", status=Job.Status.PROCESSING, percent=90
    )
    Job.objects.create(owner=user, tool_id="resize")  # queued
    running = Job.objects.create(
        owner=user, tool_id="upscale", status=Job.Status.PROCESSING, percent=40, stage="tile 2/5"
    )
    body = basic.get("/sdapi/v1/progress").json()

    assert body["progress"] == pytest.approx(0.4)
    state = body["state"]
    assert state["job_count"] == 2 and state["job_id"] == str(running.pk)
    assert (
        state["job"] == "upscale"
        and state["sampling_step"] == 40
        and state["sampling_steps"] == 100
    )
    assert body["textinfo"] == "tile 2/5"


def test_interrupt_cancels_the_callers_jobs_and_never_another_users(
    basic, user, other_user, admin_user, api_key_for, client_for
):
    queued = Job.objects.create(owner=user, tool_id="resize")
    running = Job.objects.create(owner=user, tool_id="upscale", status=Job.Status.PROCESSING)
    bobs = Job.objects.create(owner=other_user, tool_id="resize")
    admin = client_for(None)
    admin.credentials(HTTP_AUTHORIZATION=basic_header("boss", api_key_for(admin_user)))

    assert admin.post("/sdapi/v1/interrupt").json() == {"cancelled": 0}  # the admin has none
    response = basic.post("/sdapi/v1/interrupt/")

    assert response.status_code == 200 and response.json() == {"cancelled": 2}
    for job in (queued, running, bobs):
        job.refresh_from_db()
    assert queued.status == Job.Status.CANCELLED
    assert running.cancel_requested and running.status == Job.Status.PROCESSING
    assert bobs.status == Job.Status.QUEUED and not bobs.cancel_requested


def test_a_broken_json_body_is_400(basic):
    response = basic.generic(
        "POST", "/sdapi/v1/extra-single-image", b'{"image": "abc', content_type="application/json"
    )

    assert_error(response, 400, "INVALID_REQUEST_BODY")


# --- documentation ---------------------------------------------------------------------


def test_the_openapi_spec_documents_every_route_under_the_a1111_tag(anon):
    spec = yaml.safe_load(anon.get("/api/v1/openapi.yaml").content)
    operations = {
        ("get", "upscalers"): "UpscalerList",
        ("get", "face-restorers"): "FaceRestorerList",
        ("post", "extra-single-image"): "SingleImageResponse",
        ("post", "extra-batch-images"): "BatchImagesResponse",
        ("get", "progress"): "ProgressResponse",
        ("post", "interrupt"): "InterruptResponse",
    }
    for (method, name), schema in operations.items():
        operation = spec["paths"][f"/sdapi/v1/{name}"][method]
        assert operation["tags"] == ["A1111"]
        assert {"basicApiKey": []} in operation["security"]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["$ref"].endswith(f"/{schema}")
    single = spec["paths"]["/sdapi/v1/extra-single-image"]["post"]
    body = single["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "upscaler_1" in spec["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert single["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
