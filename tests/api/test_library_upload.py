"""POST /api/v1/upload: all files checked before any is stored, names, dedup, quota, atomicity."""

from pathlib import Path

import pytest
from django.core.files.storage import storages

from apps.core.errors import ApiError
from apps.library import services
from apps.library.blobs import blob_key
from apps.library.models import Blob, FileVersion, StoredFile
from tests.api.library_support import (
    PHOTO,
    ROTATED,
    TRANSPARENT,
    noise_png,
    png,
    post_files,
    scratch_left,
    stored_names,
    upload,
)
from tests.api.support import error_message
from tests.badfiles import png_claiming, text_as_jpeg

pytestmark = pytest.mark.django_db


def assert_nothing_stored() -> None:
    assert not StoredFile.objects.exists()
    assert not Blob.objects.exists()
    assert stored_names() == []
    assert scratch_left() == []


def test_one_upload_becomes_a_file_with_version_one(user_client, user):
    response = post_files(user_client, upload("photo.jpg"))

    assert response.status_code == 201, response.content
    (item,) = response.json()["files"]
    assert item["name"] == "photo.jpg"
    assert (item["width"], item["height"], item["format"]) == (600, 400, "jpeg")
    assert item["size"] == PHOTO.stat().st_size
    assert (item["version"], item["versionCount"], item["owner"]) == (1, 1, "alice")
    assert item["mediaType"] == "image/jpeg"
    stored = StoredFile.objects.get(pk=item["id"])
    assert stored.owner == user
    version = stored.versions.get()
    assert (version.number, version.source, version.app_version) == (1, "upload", "0.1.0")
    assert stored_names() == [blob_key(version.blob_id)]
    assert scratch_left() == []


def test_many_uploads_keep_their_order_and_facts(user_client):
    response = post_files(
        user_client,
        upload("a.jpg"),
        upload("b.png", TRANSPARENT.read_bytes()),
        upload("c.jpg", ROTATED.read_bytes()),
    )

    assert response.status_code == 201, response.content
    files = response.json()["files"]
    assert [f["name"] for f in files] == ["a.jpg", "b.png", "c.jpg"]
    assert [(f["width"], f["height"], f["format"]) for f in files] == [
        (600, 400, "jpeg"),
        (451, 300, "png"),
        (600, 400, "jpeg"),  # EXIF orientation 6: the displayed size
    ]
    assert StoredFile.objects.count() == 3


def test_the_single_file_field_is_accepted_too(user_client):
    response = post_files(user_client, upload("photo.jpg"), field="file")

    assert response.status_code == 201
    assert len(response.json()["files"]) == 1


def test_a_request_without_files_is_400(user_client):
    error_message(user_client.post("/api/v1/upload", {}, format="multipart"), 400, "NO_FILE")


def test_more_files_than_a_batch_allows_is_400(user_client, settings):
    settings.MAX_BATCH_SIZE = 2

    response = post_files(user_client, upload("a.jpg"), upload("b.jpg"), upload("c.jpg"))

    error_message(response, 400, "TOO_MANY_FILES")
    assert_nothing_stored()


def test_unicode_names_are_kept(user_client):
    name = "Été à Zürich — 東京 🌸.jpg"

    response = post_files(user_client, upload(name))

    assert response.json()["files"][0]["name"] == name
    assert StoredFile.objects.get().name == name


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.jpg", "..\\..\\windows\\passwd.jpg", "/abs/dir/passwd.jpg"]
)
def test_names_with_slashes_keep_their_last_part_and_never_become_paths(user_client, name):
    response = post_files(user_client, upload(name))

    assert response.status_code == 201, response.content
    assert response.json()["files"][0]["name"] == "passwd.jpg"
    (key,) = stored_names()
    assert key.startswith("blobs/") and "passwd" not in key


def test_a_slash_in_a_name_given_to_the_service_is_not_a_path(user):
    upload_ = upload("x.jpg")
    upload_.name = "dir/../../escape.jpg"  # bypasses Django's own base-name cleaning

    stored = services.store_upload(user, upload_)

    assert stored.name == "escape.jpg"
    assert all(key.startswith("blobs/") for key in stored_names())


def test_a_huge_name_is_truncated(user_client):
    response = post_files(user_client, upload("n" * 1000 + ".jpg"))

    name = response.json()["files"][0]["name"]
    assert len(name) == 120 and name.endswith("...")


def test_identical_uploads_are_stored_once(user_client, client_for, other_user, session_token):
    first = post_files(user_client, upload("one.jpg"), upload("two.jpg"))
    second = post_files(client_for(session_token(other_user)), upload("three.jpg"))

    assert first.status_code == second.status_code == 201
    assert StoredFile.objects.count() == 3
    assert Blob.objects.count() == 1
    assert len(stored_names()) == 1


def test_a_non_image_among_many_stores_nothing_and_is_named(user_client):
    response = post_files(user_client, upload("ok.jpg"), upload("notes.jpg", text_as_jpeg()))

    message = error_message(response, 400, "UNSUPPORTED_FORMAT")
    assert "notes.jpg" in message
    assert_nothing_stored()


def test_an_image_over_the_pixel_limit_stores_nothing(user_client, settings):
    settings.MAX_MEGAPIXELS = 10

    response = post_files(
        user_client, upload("ok.jpg"), upload("huge.png", png_claiming(5000, 5000))
    )

    message = error_message(response, 413, "IMAGE_TOO_LARGE")
    assert "huge.png" in message
    assert_nothing_stored()


def test_over_the_quota_the_whole_upload_is_refused(user_client, user, settings):
    settings.STORAGE_QUOTA_MB = 1
    assert post_files(user_client, upload("first.jpg")).status_code == 201
    big = [noise_png(450, 450), noise_png(451, 450)]  # ~600 KB each: together over 1 MB
    assert len(big[0]) > 550_000

    response = post_files(user_client, upload("a.png", big[0]), upload("b.png", big[1]))

    assert "quota" in error_message(response, 413, "QUOTA_EXCEEDED")
    assert StoredFile.objects.count() == Blob.objects.count() == 1
    assert len(stored_names()) == 1
    assert scratch_left() == []


def test_quota_counts_each_version_and_zero_means_unlimited(user, settings):
    settings.STORAGE_QUOTA_MB = 0
    services.store_upload(user, upload("a.jpg"))
    services.store_upload(user, upload("b.jpg"))

    assert services.usage_bytes(user) == 2 * PHOTO.stat().st_size  # deduplicated, still counted
    settings.STORAGE_QUOTA_MB = 1
    services.check_quota(user, 1024 * 1024 - 2 * PHOTO.stat().st_size)
    with pytest.raises(ApiError) as refused:
        services.check_quota(user, 1024 * 1024 - 2 * PHOTO.stat().st_size + 1)
    assert refused.value.code == "QUOTA_EXCEEDED" and refused.value.status_code == 413


def test_quota_is_per_owner(user, other_user, settings):
    settings.STORAGE_QUOTA_MB = 1
    services.store_upload(other_user, upload("big.png", noise_png(500, 500)))

    assert services.usage_bytes(user) == 0
    services.store_upload(user, upload("mine.jpg"))


def test_a_storage_write_failing_half_way_leaves_nothing(user_client, monkeypatch):
    storage = storages["library"]

    def broken_save(name, content):
        target = Path(storage.path(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"\xff\xd8\xff partial")  # some bytes reach the disk, then…
        raise OSError("No space left on device")

    monkeypatch.setattr(storage, "_save", broken_save)

    response = post_files(user_client, upload("a.jpg"), upload("b.png", png(20, 20)))

    error_message(response, 500, "INTERNAL_ERROR")
    assert_nothing_stored()


def test_rows_failing_after_the_write_remove_the_new_blobs(user, monkeypatch):
    def failing_create(**fields):
        raise RuntimeError("database went away")

    monkeypatch.setattr(FileVersion.objects, "create", failing_create)

    with pytest.raises(RuntimeError):
        services.store_uploads(user, [upload("a.jpg"), upload("b.png", png(20, 20))])

    assert_nothing_stored()


def test_a_failed_write_keeps_a_blob_that_another_file_uses(user, monkeypatch):
    services.store_upload(user, upload("kept.jpg"))
    monkeypatch.setattr(FileVersion.objects, "create", lambda **fields: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        services.store_uploads(user, [upload("same.jpg"), upload("new.png", png(9, 9))])

    assert StoredFile.objects.count() == Blob.objects.count() == 1
    assert len(stored_names()) == 1
