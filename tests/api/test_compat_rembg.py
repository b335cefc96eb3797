"""rembg's server API (POST /api/remove), driven as rembg's own README drives it:

    curl -s -F file=@/path/to/input.jpg "http://localhost:7000/api/remove" -o output.png

that is, a multipart body with the image in `file`; the options are the form fields and
query parameters of rembg/commands/s_command.py (model, a, af, ab, ae, om, ppm; bgc and
extras in the query). The shipped u2netp runs for real; images are compared by size and
pixels, never by bytes.
"""

from __future__ import annotations

from typing import Any

import pytest
import pyvips
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs.models import Job
from tests.api.support import assert_error
from tests.badfiles import FIXTURES, text_as_jpeg
from tests.shipped_models import shipped_models_dir

pytestmark = pytest.mark.django_db


@pytest.fixture
def models(settings) -> None:
    settings.MODELS_DIR = shipped_models_dir()


@pytest.fixture
def client(user, api_key_for, client_for) -> Any:
    return client_for(api_key_for(user))


def photo_jpeg() -> bytes:
    """48x40 of the photo (a JPEG, as curl would send input.jpg)."""
    crop = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(180, 80, 48, 40)
    return bytes(crop.jpegsave_buffer())


def curl_form(data: bytes | None = None, **fields: str) -> dict[str, Any]:
    """`curl -F file=@input.jpg [-F name=value ...]`."""
    return {"file": SimpleUploadedFile("input.jpg", data or photo_jpeg(), "image/jpeg"), **fields}


def remove(client: Any, form: dict[str, Any], query: str = "") -> Any:
    return client.post(f"/api/remove{query}", form, format="multipart")


def image_of(response: Any) -> pyvips.Image:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    return pyvips.Image.new_from_buffer(response.content, "")


def test_the_readme_curl_form_returns_a_cut_out_png(client, models):
    response = remove(client, curl_form())
    image = image_of(response)

    assert (image.width, image.height, image.bands) == (48, 40, 4)
    alpha = image[3]
    assert alpha.min() < 128 < alpha.max()  # some background removed, some subject kept
    assert response["X-Model"].startswith("u2netp") and response["X-Device"] == "cpu"
    assert "onnxruntime" in response["X-Engine"]
    assert Job.objects.get().tool_id == "remove-background"


def test_om_returns_the_mask(client, models):
    mask = image_of(remove(client, curl_form(om="true", model="u2netp")))

    assert (mask.width, mask.height) == (48, 40)
    assert mask.bands == 1 and mask.min() < 128 < mask.max()


def test_bgc_in_the_query_gives_an_opaque_background_of_that_colour(client, models):
    cut = image_of(remove(client, curl_form()))
    flat = image_of(remove(client, curl_form(), "?bgc=255,0,0,255"))

    assert flat.bands == 3 or flat[3].min() == 255
    background = (cut[3] < 10).ifthenelse(1, 0)  # where the cut-out is transparent
    assert background.avg() > 0.05
    red = flat[0].cast("float") - flat[1].cast("float")
    assert (red * background).avg() / background.avg() > 200  # pure red there


def test_alpha_matting_options_are_taken(client, models):
    image = image_of(remove(client, curl_form(a="true", af="240", ab="10", ae="5")))

    assert image.bands == 4
    assert Job.objects.get().steps[0]["settings"]["alphaMatting"] is True


def test_ppm_and_extras_are_accepted_and_reported_as_ignored(client, models):
    response = remove(client, curl_form(ppm="true"), '?extras={"sam_prompt":[]}')

    image_of(response)
    assert response["X-Ignored-Options"] == "ppm, extras"


def test_rembgs_default_u2net_is_served_by_u2netp(client, models):
    response = remove(client, curl_form(model="u2net"))

    image_of(response)
    assert response["X-Model"].startswith("u2netp")


def test_a_model_that_is_not_installed_is_503(client, models):
    response = remove(client, curl_form(model="isnet-general-use"))

    assert "isnet-general-use" in assert_error(response, 503, "MODEL_NOT_INSTALLED")["error"]


@pytest.mark.parametrize("model", ["sam", "u2net_human_seg", "../u2netp"])
def test_an_unknown_model_is_404_listing_the_models_there_are(client, model):
    message = assert_error(remove(client, curl_form(model=model)), 404, "MODEL_NOT_FOUND")["error"]

    assert "u2netp" in message and "birefnet-general" in message
    assert not Job.objects.exists()


def test_a_url_is_never_fetched(client):
    response = client.get("/api/remove", {"url": "http://169.254.169.254/latest/meta-data"})

    assert "never fetches URLs" in assert_error(response, 400, "URL_NOT_SUPPORTED")["error"]
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("form", "query", "status", "code"),
    [
        ({}, "", 400, "NO_FILE"),
        ({"file": SimpleUploadedFile("x.jpg", text_as_jpeg())}, "", 400, "UNSUPPORTED_FORMAT"),
        (curl_form(a="maybe"), "", 400, "VALIDATION_ERROR"),
        (curl_form(), "?bgc=300,0,0,255", 400, "VALIDATION_ERROR"),
        (curl_form(), "?bgc=red", 400, "VALIDATION_ERROR"),
    ],
    ids=["no-file", "not-an-image", "bad-boolean", "bgc-out-of-range", "bgc-not-numbers"],
)
def test_bad_requests_are_400(client, models, form, query, status, code):
    assert_error(remove(client, form, query), status, code)


def test_the_trailing_slash_and_the_x_api_token_header_work(user, api_key_for, client_for, models):
    anonymous = client_for(None)
    response = anonymous.post(
        "/api/remove/", curl_form(om="1"), format="multipart", HTTP_X_API_TOKEN=api_key_for(user)
    )

    assert image_of(response).bands == 1


def test_anonymous_is_401(anon):
    assert anon.post("/api/remove", curl_form(), format="multipart").status_code == 401


def test_the_openapi_spec_documents_remove_under_the_rembg_tag(anon):
    spec = yaml.safe_load(anon.get("/api/v1/openapi.yaml").content)
    post, get = spec["paths"]["/api/remove"]["post"], spec["paths"]["/api/remove"]["get"]

    assert post["tags"] == get["tags"] == ["rembg"]
    assert "image/png" in post["responses"]["200"]["content"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert "400" in get["responses"] and "200" not in get["responses"]
