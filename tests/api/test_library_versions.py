"""Version chains with provenance (add_version on real tool results), old versions, thumbnails."""

import io

import pytest
import pyvips
from PIL import Image

from apps.core.errors import ApiError
from apps.jobs.models import Job
from apps.library import services, thumbnails
from apps.library.blobs import blob_key, thumbnail_key
from apps.library.models import Blob, StoredFile
from tests.api.library_support import (
    PHOTO,
    ROTATED,
    TRANSPARENT,
    add_tool_version,
    body_of,
    decoded,
    mean_difference,
    noise_png,
    png,
    scratch_left,
    stored_names,
    upload,
)
from tests.badfiles import png_claiming, truncated_jpeg
from tools.base import ToolError

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo_file(user) -> StoredFile:
    return services.store_upload(user, upload("coffee.jpg"))


@pytest.fixture
def chain(photo_file, user) -> StoredFile:
    """v1 the upload, v2 resized by a tool call (with its job), v3 made a PNG by a pipeline."""
    job = Job.objects.create(owner=user, tool_id="resize", status=Job.Status.COMPLETED)
    add_tool_version(photo_file, "resize", {"width": 300}, job_id=job.pk, model="none")
    add_tool_version(photo_file, "convert", {"format": "png"}, source="pipeline")
    return photo_file


def test_a_chain_of_three_versions_keeps_each_provenance(user_client, chain):
    body = user_client.get(f"/api/v1/files/{chain.pk}").json()

    assert (body["version"], body["versionCount"], body["format"]) == (3, 3, "png")
    assert (body["width"], body["height"]) == (300, 200)
    v1, v2, v3 = body["versions"]
    assert [v["number"] for v in (v1, v2, v3)] == [1, 2, 3]
    assert v1["provenance"]["source"] == "upload" and v1["provenance"]["toolId"] is None
    assert (v2["width"], v2["height"], v2["format"]) == (300, 200, "jpeg")
    assert v2["provenance"]["source"] == "tool"
    assert v2["provenance"]["toolId"] == "resize"
    assert v2["provenance"]["settings"] == {"width": 300}
    assert v2["provenance"]["engine"].startswith("libvips")
    assert v2["provenance"]["model"] == "none"
    assert v2["provenance"]["jobId"] == str(Job.objects.get().pk)
    assert v2["provenance"]["appVersion"] == "0.1.0"
    assert (v3["format"], v3["mediaType"]) == ("png", "image/png")
    assert v3["provenance"]["source"] == "pipeline"
    assert v3["provenance"]["settings"] == {"format": "png"}
    assert v1["createdAt"] <= v2["createdAt"] <= v3["createdAt"]


def test_add_version_updates_the_callers_instance(photo_file):
    version = services.add_version(photo_file, TRANSPARENT, source="tool", tool_id="convert")

    assert version.number == 2
    assert (photo_file.latest_version, photo_file.format, photo_file.width) == (2, "png", 451)


def test_a_version_outlives_the_job_that_made_it(user_client, chain):
    Job.objects.all().delete()

    body = user_client.get(f"/api/v1/files/{chain.pk}").json()

    assert body["versions"][1]["provenance"]["jobId"] is None


def test_an_old_version_downloads_its_own_pixels(user_client, chain):
    url = f"/api/v1/files/{chain.pk}/download"

    first = user_client.get(f"{url}?version=1")
    second = user_client.get(f"{url}?version=2")
    latest = user_client.get(url)

    assert first["Content-Disposition"] == 'attachment; filename="coffee.jpg"'
    original_bytes = body_of(first)
    assert original_bytes == PHOTO.read_bytes()  # the stored bytes, untouched
    assert (second["Content-Type"], second["X-Version"]) == ("image/jpeg", "2")
    assert latest["Content-Type"] == "image/png"
    assert latest["Content-Disposition"] == 'attachment; filename="coffee.png"'
    original = pyvips.Image.new_from_buffer(original_bytes, "")
    resized, converted = decoded(second), decoded(latest)
    assert (original.width, resized.width, converted.width) == (600, 300, 300)
    assert mean_difference(original, resized) < 8  # the same photo, smaller
    flat = pyvips.Image.new_from_buffer(png(600, 400), "").bandjoin([128, 128])
    assert mean_difference(original, flat) > 20  # …and not just any image


def test_add_version_refuses_a_non_image(photo_file, tmp_path):
    text = tmp_path / "result.txt"
    text.write_text("not an image")

    with pytest.raises(ToolError) as refused:
        services.add_version(photo_file, text, source="tool", tool_id="ocr")

    assert refused.value.code == "UNSUPPORTED_FORMAT"
    assert photo_file.versions.count() == 1 and Blob.objects.count() == 1


def test_add_version_rejects_an_unknown_source(photo_file):
    with pytest.raises(ValueError, match="source"):
        services.add_version(photo_file, PHOTO, source="magic")


def test_add_version_over_the_quota_writes_nothing(photo_file, settings, tmp_path):
    settings.STORAGE_QUOTA_MB = 1
    big = tmp_path / "big.png"
    big.write_bytes(noise_png(600, 600))

    with pytest.raises(ApiError) as refused:
        services.add_version(photo_file, big, source="tool", tool_id="upscale")

    assert refused.value.code == "QUOTA_EXCEEDED"
    assert photo_file.versions.count() == 1
    assert len(stored_names()) == 1 and scratch_left() == []


def test_add_version_keeps_the_produced_file(photo_file, tmp_path):
    produced = tmp_path / "out.png"
    produced.write_bytes(png(8, 8))

    services.add_version(photo_file, produced, source="tool")

    assert produced.exists()


def test_add_version_to_a_deleted_file_is_404_and_stores_nothing(photo_file, tmp_path):
    StoredFile.objects.filter(pk=photo_file.pk).delete()
    produced = tmp_path / "out.png"
    produced.write_bytes(png(8, 8, level=3))

    with pytest.raises(ApiError) as refused:
        services.add_version(photo_file, produced, source="tool")

    assert refused.value.status_code == 404
    assert blob_key(Blob.objects.get().sha256) in stored_names()
    assert len(stored_names()) == 1  # the new PNG's blob was removed again


def test_local_copy_is_the_stored_blob(photo_file):
    version = photo_file.versions.get()

    with services.local_copy(version) as path:
        assert path.read_bytes() == PHOTO.read_bytes()
        assert path.as_posix().endswith(blob_key(version.blob_id))


# --- thumbnails ------------------------------------------------------------------------


def test_a_thumbnail_is_a_jpeg_within_300px(user_client, photo_file):
    response = user_client.get(f"/api/v1/files/{photo_file.pk}/thumbnail")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    image = decoded(response)
    assert image.get("vips-loader") == "jpegload_buffer"
    assert (image.width, image.height) == (300, 200)


def test_a_thumbnail_is_rendered_once_and_then_cached(user_client, photo_file, monkeypatch):
    calls = []
    render = thumbnails.render
    monkeypatch.setattr(thumbnails, "render", lambda *a: calls.append(a) or render(*a))
    url = f"/api/v1/files/{photo_file.pk}/thumbnail"

    first = body_of(user_client.get(url))
    second = body_of(user_client.get(url))

    assert len(calls) == 1
    assert first == second
    assert thumbnail_key(photo_file.versions.get().blob_id) in stored_names()


def test_each_version_has_its_own_thumbnail(user_client, chain):
    url = f"/api/v1/files/{chain.pk}/thumbnail"

    old = decoded(user_client.get(f"{url}?version=1"))
    latest = decoded(user_client.get(url))

    assert (old.width, old.height) == (300, 200)
    assert (latest.width, latest.height) == (300, 200)
    assert len([n for n in stored_names() if n.startswith("thumbs/")]) == 2


def test_a_thumbnail_is_upright_and_never_enlarged(user_client, user):
    rotated = services.store_upload(user, upload("sideways.jpg", ROTATED.read_bytes()))
    tiny = services.store_upload(user, upload("tiny.png", png(40, 20)))

    upright = decoded(user_client.get(f"/api/v1/files/{rotated.pk}/thumbnail"))
    small = decoded(user_client.get(f"/api/v1/files/{tiny.pk}/thumbnail"))

    assert (upright.width, upright.height) == (300, 200)
    assert (small.width, small.height) == (40, 20)


def test_a_transparent_image_gets_a_white_background(user_client, user):
    stored = services.store_upload(user, upload("cat.png", TRANSPARENT.read_bytes()))

    image = decoded(user_client.get(f"/api/v1/files/{stored.pk}/thumbnail"))

    assert image.bands == 3 and image.width == 300
    assert min(image.getpoint(0, 0)) > 240  # a transparent corner


def test_a_thumbnail_of_a_truncated_image_is_422(user_client, user):
    stored = services.store_upload(user, upload("cut.jpg", truncated_jpeg()))

    response = user_client.get(f"/api/v1/files/{stored.pk}/thumbnail")

    assert response.status_code == 422 and response.json()["code"] == "CORRUPT_IMAGE"
    assert not [n for n in stored_names() if n.startswith("thumbs/")]


def test_a_version_over_the_pixel_limit_gets_no_thumbnail(user_client, photo_file, tmp_path):
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_claiming(20000, 20000))  # a tool result: kept, though over 100 MP
    services.add_version(photo_file, huge, source="tool")

    response = user_client.get(f"/api/v1/files/{photo_file.pk}/thumbnail")

    assert response.status_code == 413 and response.json()["code"] == "IMAGE_TOO_LARGE"


def bmp_bytes() -> bytes:
    """A 640×480 BMP (Pillow-decoded: libvips has no BMP loader)."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(out, "BMP")
    return out.getvalue()


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="600">'
    b'<rect width="1200" height="600" fill="#2a6"/><circle cx="600" cy="300" r="200"/></svg>'
)


@pytest.mark.parametrize(
    ("name", "data", "facts"),
    [("flag.bmp", bmp_bytes(), (640, 480, "bmp")), ("logo.svg", SVG, (1200, 600, "svg"))],
)
def test_formats_decoded_other_ways_get_thumbnails_too(user_client, user, name, data, facts):
    stored = services.store_upload(user, upload(name, data))
    assert (stored.width, stored.height, stored.format) == facts

    image = decoded(user_client.get(f"/api/v1/files/{stored.pk}/thumbnail"))

    assert max(image.width, image.height) == 300
    assert image.width / image.height == pytest.approx(facts[0] / facts[1], rel=0.01)


def test_latest_version_is_the_last_of_the_chain(chain):
    assert services.latest_version(chain).number == 3
    assert services.latest_version(chain).format == "png"
