"""GET /api/v1/files (pages, search, sort, format), detail, delete, ownership and path tricks."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from apps.core.errors import ApiError
from apps.library import services
from apps.library.blobs import blob_key, thumbnail_key
from apps.library.models import Blob, StoredFile
from tests.api.library_support import (
    TRANSPARENT,
    body_of,
    png,
    post_files,
    stored_names,
    upload,
)
from tests.api.support import assert_error

pytestmark = pytest.mark.django_db


def make_files(owner, count: int) -> list[StoredFile]:
    """`count` distinct small PNGs named f000.png…, each a second newer than the last."""
    start = timezone.now() - timedelta(days=1)
    files = []
    for i in range(count):
        stored = services.store_upload(owner, upload(f"f{i:03}.png", png(4 + i, 4, level=i)))
        StoredFile.objects.filter(pk=stored.pk).update(updated_at=start + timedelta(seconds=i))
        files.append(stored)
    return files


def names(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [f["name"] for f in response.json()["files"]]


# --- listing ---------------------------------------------------------------------------


def test_the_list_pages_through_the_newest_first(user_client, user):
    make_files(user, 7)

    first = user_client.get("/api/v1/files?pageSize=3")
    last = user_client.get("/api/v1/files?pageSize=3&page=3")
    beyond = user_client.get("/api/v1/files?pageSize=3&page=4")

    assert names(first) == ["f006.png", "f005.png", "f004.png"]
    assert {k: first.json()[k] for k in ("page", "pageSize", "total", "totalPages")} == {
        "page": 1,
        "pageSize": 3,
        "total": 7,
        "totalPages": 3,
    }
    assert names(last) == ["f000.png"]
    assert names(beyond) == []


def test_the_default_page_size_is_50(user_client, user):
    make_files(user, 1)

    body = user_client.get("/api/v1/files").json()

    assert (body["page"], body["pageSize"], body["totalPages"]) == (1, 50, 1)


@pytest.mark.parametrize("size", ["1", "200"])
def test_page_sizes_within_bounds_are_accepted(user_client, user, size):
    assert user_client.get(f"/api/v1/files?pageSize={size}").json()["pageSize"] == int(size)


@pytest.mark.parametrize(
    "query", ["pageSize=0", "pageSize=201", "pageSize=ten", "page=0", "page=-1", "page=x"]
)
def test_page_parameters_out_of_bounds_are_400(user_client, user, query):
    assert_error(user_client.get(f"/api/v1/files?{query}"), 400, "VALIDATION_ERROR")


def test_a_list_item_shows_the_latest_version_and_the_count(user_client, user):
    stored = services.store_upload(user, upload("a.jpg"))
    services.add_version(stored, TRANSPARENT, source="tool", tool_id="convert")

    (item,) = user_client.get("/api/v1/files").json()["files"]

    assert (item["version"], item["versionCount"]) == (2, 2)
    assert (item["format"], item["width"], item["height"]) == ("png", 451, 300)
    assert item["size"] == TRANSPARENT.stat().st_size


def test_search_finds_parts_of_names_in_any_case(user_client, user):
    for name in ("Holiday Beach.jpg", "holiday-city.jpg", "Work.jpg", "Été à Zürich.jpg"):
        services.store_upload(user, upload(name))

    assert sorted(names(user_client.get("/api/v1/files?search=HOLIDAY"))) == [
        "Holiday Beach.jpg",
        "holiday-city.jpg",
    ]
    assert names(user_client.get("/api/v1/files?search=été à zü")) == ["Été à Zürich.jpg"]
    assert names(user_client.get("/api/v1/files?search=%25")) == []  # % is no wildcard
    assert names(user_client.get("/api/v1/files?search=_")) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["apple.png", "Banana.png", "cherry.png"]),
        ("-name", ["cherry.png", "Banana.png", "apple.png"]),
        ("date", ["cherry.png", "apple.png", "Banana.png"]),
        ("-date", ["Banana.png", "apple.png", "cherry.png"]),
        ("size", ["Banana.png", "cherry.png", "apple.png"]),
        ("-size", ["apple.png", "cherry.png", "Banana.png"]),
    ],
)
def test_the_list_sorts_by_each_key(user_client, user, sort, expected):
    start = timezone.now()
    sizes = {"cherry.png": png(40, 40, 1), "apple.png": png(300, 300, 2), "Banana.png": png(2, 2)}
    for seconds, (name, data) in enumerate(sizes.items()):
        stored = services.store_upload(user, upload(name, data))
        StoredFile.objects.filter(pk=stored.pk).update(updated_at=start + timedelta(seconds))

    assert names(user_client.get(f"/api/v1/files?sort={sort}")) == expected


def test_an_unknown_sort_is_400(user_client, user):
    assert_error(user_client.get("/api/v1/files?sort=owner"), 400, "VALIDATION_ERROR")


def test_the_format_filter_keeps_one_format(user_client, user):
    services.store_upload(user, upload("a.jpg"))
    services.store_upload(user, upload("b.png", png(5, 5)))

    assert names(user_client.get("/api/v1/files?format=png")) == ["b.png"]
    assert names(user_client.get("/api/v1/files?format=JPEG")) == ["a.jpg"]
    assert names(user_client.get("/api/v1/files?format=webp")) == []
    assert_error(user_client.get("/api/v1/files?format=exe"), 400, "VALIDATION_ERROR")


# --- ownership -------------------------------------------------------------------------


@pytest.fixture
def alices_file(user) -> StoredFile:
    return services.store_upload(user, upload("alice.jpg"))


@pytest.mark.parametrize("suffix", ["", "/download", "/thumbnail"])
def test_another_users_file_is_404_and_an_admins_200(
    alices_file, client_for, session_token, other_user, admin_user, user_client, suffix
):
    url = f"/api/v1/files/{alices_file.pk}{suffix}"

    assert user_client.get(url).status_code == 200
    assert_error(client_for(session_token(other_user)).get(url), 404, "NOT_FOUND")
    assert client_for(session_token(admin_user)).get(url).status_code == 200


def test_lists_show_own_files_and_admins_all(
    alices_file, client_for, session_token, other_user, admin_user, user_client
):
    services.store_upload(other_user, upload("bob.jpg"))

    assert names(user_client.get("/api/v1/files")) == ["alice.jpg"]
    assert names(client_for(session_token(other_user)).get("/api/v1/files")) == ["bob.jpg"]
    everyone = client_for(session_token(admin_user)).get("/api/v1/files")
    assert sorted(names(everyone)) == ["alice.jpg", "bob.jpg"]
    assert {f["owner"] for f in everyone.json()["files"]} == {"alice", "bob"}


def test_another_user_cannot_delete_a_file(alices_file, client_for, session_token, other_user):
    response = client_for(session_token(other_user)).delete(f"/api/v1/files/{alices_file.pk}")

    assert_error(response, 404, "NOT_FOUND")
    assert StoredFile.objects.filter(pk=alices_file.pk).exists()


def test_without_auth_anonymous_files_belong_to_nobody(settings, anon, user_client, user):
    settings.AUTH_ENABLED = False

    response = post_files(anon, upload("anon.jpg"))

    assert response.status_code == 201
    assert StoredFile.objects.get().owner is None
    assert names(anon.get("/api/v1/files")) == ["anon.jpg"]
    assert names(user_client.get("/api/v1/files")) == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/files/..%2F..%2Fetc/download",
        "/api/v1/files/../../etc/passwd",
        "/api/v1/files/123/download",
        "/api/v1/files/not-a-uuid",
        "/api/v1/files/%2Fetc%2Fpasswd/thumbnail",
    ],
)
def test_ids_that_are_not_uuids_are_json_404(user_client, alices_file, path):
    assert_error(user_client.get(path), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "file_id", ["not-a-uuid", "../../etc/passwd", "", "00000000-0000-4000-8000-000000000000"]
)
def test_visible_file_is_404_for_any_other_id(user, alices_file, file_id):
    with pytest.raises(ApiError) as refused:
        services.visible_file(user, file_id)

    assert (refused.value.status_code, refused.value.code) == (404, "NOT_FOUND")


def test_visible_file_scopes_like_the_api(alices_file, user, other_user, admin_user):
    assert services.visible_file(user, str(alices_file.pk)) == alices_file
    assert services.visible_file(admin_user, alices_file.pk) == alices_file
    for outsider in (other_user, AnonymousUser(), None):
        with pytest.raises(ApiError):
            services.visible_file(outsider, alices_file.pk)


def test_an_unknown_uuid_is_404(user_client):
    assert_error(user_client.get(f"/api/v1/files/{uuid.uuid4()}"), 404, "NOT_FOUND")


# --- detail and delete -----------------------------------------------------------------


def test_the_detail_has_the_file_and_its_versions(user_client, alices_file):
    body = user_client.get(f"/api/v1/files/{alices_file.pk}").json()

    assert body["id"] == str(alices_file.pk) and body["name"] == "alice.jpg"
    (version,) = body["versions"]
    assert version["number"] == 1 and version["format"] == "jpeg"
    assert version["provenance"] == {
        "source": "upload",
        "toolId": None,
        "settings": {},
        "engine": None,
        "model": None,
        "modelSha256": None,
        "device": None,
        "appVersion": "0.1.0",
        "jobId": None,
    }


def test_delete_removes_the_rows_the_blob_and_the_thumbnail(user_client, alices_file):
    url = f"/api/v1/files/{alices_file.pk}"
    sha = alices_file.versions.get().blob_id
    assert user_client.get(f"{url}/thumbnail").status_code == 200
    assert stored_names() == [blob_key(sha), thumbnail_key(sha)]

    response = user_client.delete(url)

    assert response.status_code == 200 and response.json() == {"ok": True}
    assert not StoredFile.objects.exists() and not Blob.objects.exists()
    assert stored_names() == []
    assert_error(user_client.get(url), 404, "NOT_FOUND")


def test_delete_keeps_a_blob_another_file_uses(user_client, user, other_user, alices_file):
    bobs = services.store_upload(other_user, upload("same bytes.jpg"))
    sha = bobs.versions.get().blob_id
    assert alices_file.versions.get().blob_id == sha

    assert user_client.delete(f"/api/v1/files/{alices_file.pk}").status_code == 200

    assert Blob.objects.filter(pk=sha).exists()
    assert stored_names() == [blob_key(sha)]
    services.delete_file(bobs)
    assert stored_names() == [] and not Blob.objects.exists()


def test_download_streams_the_latest_version_with_its_name_and_type(user_client, alices_file):
    response = user_client.get(f"/api/v1/files/{alices_file.pk}/download")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'attachment; filename="alice.jpg"'
    assert body_of(response) == (upload("x").read())


def test_a_unicode_name_is_encoded_in_content_disposition(user_client, user):
    stored = services.store_upload(user, upload("Été 東京.jpg"))

    response = user_client.get(f"/api/v1/files/{stored.pk}/download")

    assert (
        "filename*=utf-8''%C3%89t%C3%A9%20%E6%9D%B1%E4%BA%AC.jpg" in response["Content-Disposition"]
    )


@pytest.mark.parametrize("version", ["2", "0", "-1", "99999999999999999999999"])
def test_an_unknown_version_is_404(user_client, alices_file, version):
    url = f"/api/v1/files/{alices_file.pk}/download?version={version}"

    assert_error(user_client.get(url), 404, "VERSION_NOT_FOUND")


@pytest.mark.parametrize("version", ["latest", "1.0", "1; drop table"])
def test_a_version_that_is_not_an_integer_is_400(user_client, alices_file, version):
    url = f"/api/v1/files/{alices_file.pk}/download?version={version}"

    assert_error(user_client.get(url), 400, "VALIDATION_ERROR")
