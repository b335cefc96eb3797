"""The library storage: orphan check, housekeeping, a non-local backend, S3 selection by env."""

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from apps.jobs import maintenance
from apps.library import orphans, services
from apps.library.blobs import blob_key, thumbnail_key
from apps.library.models import Blob, StoredFile
from tests.api.library_support import (
    PHOTO,
    body_of,
    decoded,
    library_root,
    png,
    post_files,
    scratch_left,
    stored_names,
    upload,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
FAKE_SHA = "ab" * 32


def stray_blob(age_s: float, sha: str = FAKE_SHA) -> Path:
    """Bytes in the blob folder without a row, last modified `age_s` ago."""
    path = library_root() / blob_key(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind by a crash")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


# --- orphan check ----------------------------------------------------------------------


def test_the_check_finds_bytes_without_a_row_and_cleans_them(user):
    kept = services.store_upload(user, upload("kept.jpg"))
    stray = stray_blob(age_s=7200)

    found = services.find_orphans(clean=False)

    assert found["orphans"] == [blob_key(FAKE_SHA)] and found["removed"] == 0
    assert found["missing"] == [] and found["unused"] == []
    assert stray.exists()
    cleaned = services.find_orphans(clean=True)
    assert cleaned["removed"] == 1 and not stray.exists()
    assert stored_names() == [blob_key(kept.versions.get().blob_id)]


def test_the_check_leaves_young_bytes_alone(user):
    stray = stray_blob(age_s=60)  # may belong to an upload whose rows are not committed yet

    assert services.find_orphans(clean=True)["orphans"] == []
    assert stray.exists()


def test_the_check_removes_a_thumbnail_without_its_blob(user):
    thumb = library_root() / thumbnail_key(FAKE_SHA)
    thumb.parent.mkdir(parents=True)
    thumb.write_bytes(b"jpeg")
    os.utime(thumb, (0, 0))

    assert services.find_orphans(clean=True)["orphans"] == [thumbnail_key(FAKE_SHA)]
    assert not thumb.exists()


def test_the_check_reports_a_row_whose_bytes_are_missing(user):
    stored = services.store_upload(user, upload("a.jpg"))
    sha = stored.versions.get().blob_id
    (library_root() / blob_key(sha)).unlink()

    found = services.find_orphans(clean=True)

    assert found["missing"] == [sha]
    assert Blob.objects.filter(pk=sha).exists()  # reported, never deleted


def test_a_download_whose_bytes_are_missing_says_so(user_client, user):
    stored = services.store_upload(user, upload("a.jpg"))
    (library_root() / blob_key(stored.versions.get().blob_id)).unlink()

    response = user_client.get(f"/api/v1/files/{stored.pk}/download")

    assert response.status_code == 500
    assert response.json() == {
        "error": "The stored content of this file is missing",
        "code": "BLOB_MISSING",
    }


def test_the_check_removes_blobs_of_a_deleted_user():
    owner = UserFactory()
    services.store_upload(owner, upload("a.jpg"))
    owner.delete()  # cascades to files and versions; the blob row is left unused

    found = services.find_orphans(clean=True)

    assert len(found["unused"]) == 1 and found["removed"] == 1
    assert not Blob.objects.exists() and stored_names() == []


def test_hourly_housekeeping_runs_the_check(user):
    stray = stray_blob(age_s=7200)

    maintenance.housekeeping()

    assert not stray.exists()


def test_an_s3_listing_is_read_flat_under_the_storage_location():
    stamp = datetime(2024, 1, 1, tzinfo=UTC)
    seen = []

    def listing(Prefix):
        seen.append(Prefix)
        return [SimpleNamespace(key=f"{Prefix}ab/cd/{FAKE_SHA}", last_modified=stamp)]

    bucket = SimpleNamespace(objects=SimpleNamespace(filter=listing))
    storage = SimpleNamespace(bucket=bucket, location="pixelsmith/")

    listed = list(orphans._listing(storage))

    assert seen == ["pixelsmith/blobs/", "pixelsmith/thumbs/"]
    assert listed[0] == (f"blobs/ab/cd/{FAKE_SHA}", stamp)


# --- a storage without local files (as S3 is) ------------------------------------------


@pytest.fixture
def remote(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "library": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    return storages["library"]


def test_without_local_files_everything_goes_through_the_storage(
    remote, user_client, user, settings
):
    response = post_files(user_client, upload("a.jpg"), upload("b.png", png(30, 30)))
    file_id = response.json()["files"][0]["id"]
    sha = StoredFile.objects.get(pk=file_id).versions.get().blob_id
    assert remote.exists(blob_key(sha))
    assert not (Path(settings.DATA_DIR) / "library").exists()

    downloaded = body_of(user_client.get(f"/api/v1/files/{file_id}/download"))
    thumbnail = decoded(user_client.get(f"/api/v1/files/{file_id}/thumbnail"))

    assert downloaded == PHOTO.read_bytes()
    assert (thumbnail.width, thumbnail.height) == (300, 200)
    assert remote.exists(thumbnail_key(sha))
    assert scratch_left() == []  # the temporary download for the thumbnail is gone
    assert user_client.delete(f"/api/v1/files/{file_id}").status_code == 200
    assert not remote.exists(blob_key(sha)) and not remote.exists(thumbnail_key(sha))


def test_local_copy_of_a_remote_blob_is_a_temporary_download(remote, user):
    version = services.store_upload(user, upload("a.jpg")).versions.get()

    with services.local_copy(version) as path:
        assert path.read_bytes() == PHOTO.read_bytes() and path.suffix == ".jpg"

    assert not path.exists()


def test_the_orphan_check_walks_a_storage_without_local_files(remote, user, monkeypatch):
    services.store_upload(user, upload("a.jpg"))
    remote.save(blob_key(FAKE_SHA), ContentFile(b"x"))
    monkeypatch.setattr(orphans, "GRACE", timedelta(seconds=-60))  # old enough at once

    assert services.find_orphans(clean=True)["orphans"] == [blob_key(FAKE_SHA)]
    assert not remote.exists(blob_key(FAKE_SHA))


# --- choosing the backend by environment -----------------------------------------------


def storage_in_a_fresh_process(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Import the settings with `env` and describe the `library` storage (no network)."""
    script = (
        "import django, json; django.setup();"
        "from django.core.files.storage import storages; s = storages['library'];"
        "print(json.dumps({'class': type(s).__name__, **{k: getattr(s, k, None) for k in"
        " ('bucket_name', 'endpoint_url', 'access_key', 'secret_key', 'region_name',"
        " 'file_overwrite', 'default_acl')}}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "STORAGE_"))}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATA_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_storage_backend_s3_configures_an_s3_storage_from_the_env(tmp_path):
    result = storage_in_a_fresh_process(
        tmp_path,
        STORAGE_BACKEND="s3",
        S3_BUCKET="pixels",
        S3_ENDPOINT_URL="http://minio:9000",
        S3_ACCESS_KEY_ID="AKIDEXAMPLE",
        S3_SECRET_ACCESS_KEY="secret-example",
        S3_REGION="eu-west-3",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "class": "S3Storage",
        "bucket_name": "pixels",
        "endpoint_url": "http://minio:9000",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "secret-example",
        "region_name": "eu-west-3",
        "file_overwrite": True,
        "default_acl": None,
    }


def test_the_default_backend_is_local_files_in_the_data_dir(tmp_path):
    result = storage_in_a_fresh_process(tmp_path)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["class"] == "FileSystemStorage"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET is required"),
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND must be one of local, s3"),
    ],
)
def test_a_bad_storage_configuration_stops_start_up(tmp_path, env, message):
    result = storage_in_a_fresh_process(tmp_path, **env)

    assert result.returncode != 0
    assert message in result.stderr
