"""Staged uploads: one file per request (POST /api/v1/uploads), then a batch names them in
`uploadIds`, so a batch is not bound by one request's size limit."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.jobs import staging
from apps.jobs.maintenance import housekeeping
from apps.jobs.models import Job, StagedUpload
from tests.api.support import assert_error
from tests.api.test_batch import fixture, manifest_of, zip_of

pytestmark = pytest.mark.django_db


def stage(client: Any, name: str = "photo.jpg") -> dict[str, Any]:
    _, data = fixture("photo.jpg")
    response = client.post("/api/v1/uploads", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 201, response.content[:300]
    return response.json()


def batch(client: Any, ids: list[str], path: str = "/api/v1/tools/resize/batch") -> Any:
    data = {"uploadIds": json.dumps(ids), "settings": json.dumps({"width": 16})}
    return client.post(path, data)


def test_staged_files_run_as_a_batch_and_are_used_up(user_client, user):
    first, second = stage(user_client, "a.jpg"), stage(user_client, "b.jpg")
    assert first["name"] == "a.jpg" and first["size"] > 0 and first["expiresAt"]

    archive = zip_of(batch(user_client, [second["uploadId"], first["uploadId"]]))

    assert [f["output"] for f in manifest_of(archive)["files"]] == ["b_resize.jpg", "a_resize.jpg"]
    assert not StagedUpload.objects.exists()
    assert list(staging.staged_dir().iterdir()) == []  # moved into the job, not copied
    assert Job.objects.get().input_names == ["b.jpg", "a.jpg"]


def test_a_staged_file_serves_one_batch_only(user_client):
    staged = stage(user_client)
    assert batch(user_client, [staged["uploadId"]]).status_code == 200

    again = batch(user_client, [staged["uploadId"]])

    assert_error(again, 404, "UPLOAD_NOT_FOUND")


def test_another_users_staged_file_is_not_found(user_client, client_for, other_user):
    from apps.accounts.sessions import create_session

    theirs = stage(client_for(create_session(other_user)[0]))

    response = batch(user_client, [theirs["uploadId"]])

    assert_error(response, 404, "UPLOAD_NOT_FOUND")
    assert StagedUpload.objects.count() == 1  # still theirs, untouched


def test_uploaded_and_staged_files_mix_in_one_pipeline_batch(user_client):
    staged = stage(user_client, "staged.jpg")
    _, data = fixture("photo.jpg")
    steps = [{"toolId": "resize", "settings": {"width": 12}}]

    response = user_client.post(
        "/api/v1/pipeline/batch",
        {
            "files": [SimpleUploadedFile("sent.jpg", data)],
            "uploadIds": json.dumps([staged["uploadId"]]),
            "pipeline": json.dumps(steps),
        },
    )

    names = [f["name"] for f in manifest_of(zip_of(response))["files"]]
    assert names == ["sent.jpg", "staged.jpg"]


@pytest.mark.parametrize(
    ("ids", "status", "code"),
    [
        ("not json", 400, "VALIDATION_ERROR"),
        ('["not-a-uuid"]', 400, "VALIDATION_ERROR"),
        ('[{"id": 1}]', 400, "VALIDATION_ERROR"),
        ('["00000000-0000-0000-0000-000000000000"]', 404, "UPLOAD_NOT_FOUND"),
    ],
)
def test_bad_upload_ids_are_refused(user_client, ids, status, code):
    response = user_client.post(
        "/api/v1/tools/resize/batch", {"uploadIds": ids, "settings": json.dumps({"width": 9})}
    )

    assert_error(response, status, code)
    assert not Job.objects.exists()


def test_naming_one_file_twice_is_refused(user_client):
    staged = stage(user_client)

    response = batch(user_client, [staged["uploadId"], staged["uploadId"]])

    assert_error(response, 400, "VALIDATION_ERROR")


def test_at_most_max_batch_size_files_wait_per_user(user_client, settings):
    settings.MAX_BATCH_SIZE = 2
    stage(user_client), stage(user_client)

    _, data = fixture("photo.jpg")
    third = user_client.post("/api/v1/uploads", {"file": SimpleUploadedFile("c.jpg", data)})

    assert_error(third, 400, "TOO_MANY_FILES")


def test_staging_needs_a_file_and_free_disk(user_client, settings, monkeypatch):
    assert_error(user_client.post("/api/v1/uploads", {}), 400, "NO_FILE")
    monkeypatch.setattr("apps.core.disk.low_on_space", lambda: True)
    _, data = fixture("photo.jpg")
    full = user_client.post("/api/v1/uploads", {"file": SimpleUploadedFile("d.jpg", data)})
    assert_error(full, 507, "DISK_FULL")
    assert not StagedUpload.objects.exists()


def test_housekeeping_deletes_expired_staged_files_and_strays(user_client, settings):
    old, fresh = stage(user_client), stage(user_client)
    StagedUpload.objects.filter(pk=old["uploadId"]).update(
        created_at=timezone.now() - timedelta(hours=settings.JOB_RESULT_TTL_HOURS + 1)
    )
    stray = staging.staged_dir() / "left-by-a-crash"
    stray.write_bytes(b"x")
    ancient = time.time() - (settings.JOB_RESULT_TTL_HOURS + 1) * 3600
    os.utime(stray, (ancient, ancient))

    housekeeping()

    assert list(StagedUpload.objects.values_list("pk", flat=True)) == [uuid.UUID(fresh["uploadId"])]
    assert sorted(p.name for p in staging.staged_dir().iterdir()) == [fresh["uploadId"]]
