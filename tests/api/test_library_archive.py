"""POST /api/v1/files/download: several library files as one ZIP of their latest versions."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.sessions import create_session
from tests.api.support import assert_error
from tests.badfiles import FIXTURES

pytestmark = pytest.mark.django_db
PHOTO = (FIXTURES / "photo.jpg").read_bytes()


def upload(client, *names: str) -> list[str]:
    files = [SimpleUploadedFile(name, PHOTO) for name in names]
    response = client.post("/api/v1/upload", {"files": files})
    assert response.status_code == 201, response.content[:300]
    return [f["id"] for f in response.json()["files"]]


def test_several_files_download_as_one_zip_of_their_latest_versions(user_client):
    ids = upload(user_client, "a.jpg", "A.jpg", "c.jpg")
    converted = user_client.post(
        "/api/v1/tools/convert", {"settings": json.dumps({"fileId": ids[2], "format": "png"})}
    )
    assert converted.status_code == 200

    response = user_client.post("/api/v1/files/download", {"fileIds": ids}, format="json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "pixelsmith-3-files.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    # Names that differ only in case are numbered; c.jpg's latest version is a PNG.
    assert archive.namelist() == ["a.jpg", "A (2).jpg", "c.png"]
    assert archive.read("A (2).jpg") == PHOTO
    assert archive.read("c.png").startswith(b"\x89PNG")


def test_a_zip_download_with_another_users_file_is_404(user_client, client_for, other_user):
    mine = upload(user_client, "mine.jpg")
    theirs = upload(client_for(create_session(other_user)[0]), "theirs.jpg")

    response = user_client.post("/api/v1/files/download", {"fileIds": mine + theirs}, format="json")

    assert_error(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "VALIDATION_ERROR"),
        ({"fileIds": []}, "VALIDATION_ERROR"),
        ({"fileIds": "x"}, "VALIDATION_ERROR"),
    ],
)
def test_a_zip_download_needs_a_list_of_ids(user_client, body, code):
    assert_error(user_client.post("/api/v1/files/download", body, format="json"), 400, code)


def test_a_zip_download_names_each_file_once_and_at_most_max_batch_size(user_client, settings):
    ids = upload(user_client, "a.jpg", "b.jpg")
    twice = user_client.post("/api/v1/files/download", {"fileIds": [ids[0]] * 2}, format="json")
    assert_error(twice, 400, "VALIDATION_ERROR")

    settings.MAX_BATCH_SIZE = 1
    many = user_client.post("/api/v1/files/download", {"fileIds": ids}, format="json")
    assert_error(many, 400, "TOO_MANY_FILES")
