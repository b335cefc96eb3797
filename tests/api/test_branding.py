"""/api/v1/branding/logo: admin upload (≤ 500 KB → 128×128 PNG), public read, removal."""

import io
from typing import Any

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.api.support import assert_error
from tests.conftest import FIXTURES

LOGO_URL = "/api/v1/branding/logo"


def fixture_upload(name: str, upload_name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(upload_name or name, (FIXTURES / name).read_bytes())


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def upload_logo(client: Any, upload: SimpleUploadedFile, field: str = "file") -> Any:
    return client.post(LOGO_URL, {field: upload}, format="multipart")


def fetch_logo(client: Any) -> Image.Image:
    response = client.get(LOGO_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    # Consuming the stream closes the response (the test client wraps it); closing it by
    # hand would fire request_finished, which closes the test's PostgreSQL connection.
    data = b"".join(response.streaming_content)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    return image


def custom_logo_setting(client: Any) -> bool:
    return client.get("/api/v1/settings").json()["settings"]["customLogo"]


def pixel(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    value = image.getpixel((x, y))
    assert isinstance(value, tuple)
    return value


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).mean())


def assert_centred_content(logo: Image.Image, source_size: tuple[int, int]) -> tuple[int, ...]:
    """The opaque part has the source's aspect ratio, touches two sides and is centred."""
    bbox = logo.getchannel("A").getbbox()
    assert bbox is not None
    left, top, right, bottom = bbox
    width, height = right - left, bottom - top
    expected_h = round(128 * source_size[1] / source_size[0])
    assert width == 128
    assert abs(height - expected_h) <= 1
    assert abs(top - (128 - bottom)) <= 1  # centred vertically
    return bbox


# --- upload and serve ------------------------------------------------------------------


def test_an_uploaded_photo_is_served_publicly_as_a_centred_128_square_png(
    admin_client, anon, user_client
):
    response = upload_logo(admin_client, fixture_upload("photo.jpg"))
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True

    logo = fetch_logo(anon)
    assert logo.size == (128, 128)
    assert logo.mode in ("RGBA", "LA")
    left, top, right, bottom = assert_centred_content(logo, (600, 400))
    alpha = np.asarray(logo.getchannel("A"))
    assert (alpha[:top] == 0).all() and (alpha[bottom:] == 0).all()  # transparent padding
    assert (alpha[top + 1 : bottom - 1] == 255).all()  # the photo itself is opaque

    visible = logo.convert("RGB").crop((left, top, right, bottom))
    with Image.open(FIXTURES / "photo.jpg") as source:
        expected = source.convert("RGB").resize(visible.size, Image.Resampling.LANCZOS)
    assert mean_difference(visible, expected) < 6
    assert custom_logo_setting(user_client) is True


def test_a_stale_or_garbage_token_does_not_block_the_public_logo(admin_client, client_for):
    assert upload_logo(admin_client, fixture_upload("photo.jpg")).status_code == 200
    logo = fetch_logo(client_for("garbage-token-from-an-old-session"))
    assert logo.size == (128, 128)
    assert fetch_logo(client_for("si_not_a_real_key")).size == (128, 128)


def test_a_transparent_png_keeps_its_transparency(admin_client, anon):
    assert upload_logo(admin_client, fixture_upload("transparent.png")).status_code == 200
    logo = fetch_logo(anon)
    assert logo.size == (128, 128)
    assert logo.mode == "RGBA"
    alpha = np.asarray(logo.getchannel("A"), dtype=np.float64)
    assert alpha[64, 64] == 255  # the middle of the ellipse
    assert alpha[0, 0] == 0 and alpha[127, 127] == 0
    # 451×300 fits as 128×85: the source's own alpha (an ellipse) sits centred in the square.
    with Image.open(FIXTURES / "transparent.png") as source:
        expected = np.asarray(source.getchannel("A").resize((128, 85)), dtype=np.float64)
    top = min((21, 22), key=lambda t: np.abs(alpha[t : t + 85] - expected).mean())
    assert np.abs(alpha[top : top + 85] - expected).mean() < 4
    assert (alpha[:top] == 0).all() and (alpha[top + 85 :] == 0).all()


def test_an_exif_rotated_photo_becomes_an_upright_logo(admin_client, anon):
    assert upload_logo(admin_client, fixture_upload("photo_rotated.jpg")).status_code == 200
    logo = fetch_logo(anon)
    left, top, right, bottom = assert_centred_content(logo, (600, 400))  # landscape
    visible = logo.convert("RGB").crop((left, top, right, bottom))
    with Image.open(FIXTURES / "photo.jpg") as upright:
        expected = upright.convert("RGB").resize(visible.size, Image.Resampling.LANCZOS)
    assert mean_difference(visible, expected) < 6


def test_a_tall_image_is_padded_left_and_right(admin_client, anon):
    tall = Image.new("RGB", (100, 400), (200, 30, 30))
    upload = SimpleUploadedFile("tall.png", png_bytes(tall))
    assert upload_logo(admin_client, upload).status_code == 200
    logo = fetch_logo(anon)
    bbox = logo.getchannel("A").getbbox()
    assert bbox is not None
    left, top, right, bottom = bbox
    assert (top, bottom) == (0, 128)
    assert abs((right - left) - 32) <= 1
    assert abs(left - (128 - right)) <= 1
    r, g, b, a = pixel(logo, 64, 64)
    assert a == 255 and abs(r - 200) <= 2 and g < 40 and b < 40


def test_a_new_upload_replaces_the_previous_logo(admin_client, anon):
    red = SimpleUploadedFile("red.png", png_bytes(Image.new("RGB", (64, 64), (255, 0, 0))))
    blue = SimpleUploadedFile("blue.png", png_bytes(Image.new("RGB", (64, 64), (0, 0, 255))))
    assert upload_logo(admin_client, red).status_code == 200
    assert pixel(fetch_logo(anon), 64, 64)[:3] == (255, 0, 0)
    assert upload_logo(admin_client, blue).status_code == 200
    assert pixel(fetch_logo(anon), 64, 64)[:3] == (0, 0, 255)


def test_the_logo_field_name_is_accepted_as_an_alias(admin_client, anon):
    response = upload_logo(admin_client, fixture_upload("photo.jpg"), field="logo")
    assert response.status_code == 200
    assert fetch_logo(anon).size == (128, 128)


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def palette_with_transparency() -> Image.Image:
    image = Image.new("P", (60, 40), 0)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    image.paste(1, (10, 10, 50, 30))
    image.info["transparency"] = 0
    return image


@pytest.mark.parametrize(
    ("name", "make", "fmt"),
    [
        ("grey.png", lambda: Image.new("L", (60, 40), 128), "PNG"),
        ("grey-alpha.png", lambda: Image.new("LA", (60, 40), (128, 200)), "PNG"),
        ("deep.png", lambda: Image.new("I;16", (60, 40), 40000), "PNG"),
        ("palette.png", palette_with_transparency, "PNG"),
        ("cmyk.jpg", lambda: Image.new("CMYK", (60, 40), (0, 255, 255, 0)), "JPEG"),
        ("anim.gif", lambda: Image.new("P", (60, 40), 3), "GIF"),
        ("pic.webp", lambda: Image.new("RGBA", (60, 40), (10, 20, 200, 255)), "WEBP"),
        ("icon.bmp", lambda: Image.new("RGB", (60, 40), (10, 200, 20)), "BMP"),
    ],
)
def test_common_image_kinds_all_become_a_128_square_rgba_png(admin_client, anon, name, make, fmt):
    upload = SimpleUploadedFile(name, encoded(make(), fmt))
    assert upload_logo(admin_client, upload).status_code == 200
    logo = fetch_logo(anon)
    assert (logo.size, logo.mode) == ((128, 128), "RGBA")
    assert pixel(logo, 0, 0)[3] == 0  # padding above the 3:2 image
    assert pixel(logo, 64, 64)[3] > 0


def test_a_cmyk_jpeg_logo_keeps_its_colour(admin_client, anon):
    red = Image.new("CMYK", (60, 40), (0, 255, 255, 0))
    assert (
        upload_logo(admin_client, SimpleUploadedFile("red.jpg", encoded(red, "JPEG"))).status_code
        == 200
    )
    r, g, b, a = pixel(fetch_logo(anon), 64, 64)
    assert a == 255 and r > 200 and g < 80 and b < 80


# --- refused uploads ---------------------------------------------------------------------


def test_a_logo_over_500_kb_is_refused(admin_client, anon, user_client):
    noise = np.random.default_rng(1).integers(0, 256, (500, 500, 3), dtype=np.uint8)
    data = png_bytes(Image.fromarray(noise))
    assert len(data) > 500 * 1024
    response = upload_logo(admin_client, SimpleUploadedFile("noise.png", data))
    assert_error(response, 413, "FILE_TOO_LARGE")
    assert_error(anon.get(LOGO_URL), 404, "NOT_FOUND")
    assert custom_logo_setting(user_client) is False


def test_a_text_file_named_png_is_an_unsupported_format(admin_client, anon):
    upload = SimpleUploadedFile("logo.png", b"this is not an image, just text\n" * 20)
    assert_error(upload_logo(admin_client, upload), 400, "UNSUPPORTED_FORMAT")
    assert_error(anon.get(LOGO_URL), 404, "NOT_FOUND")


@pytest.mark.parametrize(("name", "keep"), [("photo.jpg", 20_000), ("transparent.png", 60_000)])
def test_a_truncated_image_is_a_client_error_not_a_crash(admin_client, anon, name, keep):
    data = (FIXTURES / name).read_bytes()[:keep]
    response = upload_logo(admin_client, SimpleUploadedFile(name, data))
    assert_error(response, 422, "CORRUPT_IMAGE")
    assert_error(anon.get(LOGO_URL), 404, "NOT_FOUND")


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(admin_client, settings):
    settings.MAX_MEGAPIXELS = 1
    big = png_bytes(Image.new("RGB", (1500, 1000), (10, 20, 30)))  # 1.5 MP, a few KB
    assert len(big) < 500 * 1024
    assert_error(
        upload_logo(admin_client, SimpleUploadedFile("big.png", big)), 413, "IMAGE_TOO_LARGE"
    )


def test_an_upload_without_a_file_is_refused(admin_client):
    assert_error(admin_client.post(LOGO_URL, {}, format="multipart"), 400, "NO_FILE")


def test_a_user_cannot_upload_a_logo(user_client, anon):
    assert_error(upload_logo(user_client, fixture_upload("photo.jpg")), 403, "FORBIDDEN")
    assert_error(anon.get(LOGO_URL), 404, "NOT_FOUND")


def test_an_anonymous_caller_cannot_upload_a_logo(anon, db):
    assert_error(upload_logo(anon, fixture_upload("photo.jpg")), 401, "AUTH_REQUIRED")


# --- removal -----------------------------------------------------------------------------


def test_admin_removes_the_logo(admin_client, anon, user_client):
    assert upload_logo(admin_client, fixture_upload("photo.jpg")).status_code == 200
    response = admin_client.delete(LOGO_URL)
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert_error(anon.get(LOGO_URL), 404, "NOT_FOUND")
    assert custom_logo_setting(user_client) is False


def test_a_user_cannot_remove_the_logo(admin_client, user_client, anon):
    assert upload_logo(admin_client, fixture_upload("photo.jpg")).status_code == 200
    assert_error(user_client.delete(LOGO_URL), 403, "FORBIDDEN")
    assert fetch_logo(anon).size == (128, 128)
    assert custom_logo_setting(user_client) is True


def test_without_a_logo_the_public_read_is_a_json_404(anon, db):
    assert_error(anon.get(LOGO_URL), 404, "NOT_FOUND")


def test_head_on_the_logo_is_public_like_get(admin_client, anon, client_for):
    assert upload_logo(admin_client, fixture_upload("photo.jpg")).status_code == 200
    for client in (anon, client_for("garbage")):
        response = client.head(LOGO_URL)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
