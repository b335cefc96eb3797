"""fileId / fileIds: library files as inputs, and results saved as their next versions."""

import io
import json
import uuid
import zipfile
from typing import Any

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs import execute, services, storage
from apps.jobs.models import Job
from apps.library.models import FileVersion, StoredFile
from apps.library.services import store_upload
from tests.api.library_support import PHOTO, body_of, decoded, upload
from tests.api.support import assert_error

pytestmark = pytest.mark.django_db


def stored(owner: Any, name: str = "photo.jpg") -> StoredFile:
    return store_upload(owner, upload(name, PHOTO.read_bytes()))


def call(client: Any, tool_id: str, settings: dict[str, Any], with_file: bool = True) -> Any:
    data: dict[str, Any] = {"settings": json.dumps(settings)}
    if with_file:
        data["file"] = SimpleUploadedFile("new.jpg", PHOTO.read_bytes(), "image/jpeg")
    return client.post(f"/api/v1/tools/{tool_id}", data, format="multipart")


def versions(file: StoredFile) -> list[FileVersion]:
    return list(file.versions.order_by("number"))


def test_a_tool_call_with_file_id_saves_its_result_as_the_next_version(user_client, user):
    file = stored(user)

    response = call(user_client, "resize", {"width": 120, "fileId": str(file.pk)})

    assert response.status_code == 200
    assert decoded(response).width == 120
    chain = versions(file)
    assert [v.number for v in chain] == [1, 2]
    latest = chain[-1]
    assert (latest.width, latest.source, latest.tool_id) == (120, "tool", "resize")
    assert latest.settings == {"width": 120}  # fileId is a reference, not a setting
    assert "libvips" in latest.engine
    assert str(latest.job_id) == response["X-Job-Id"]
    info = json.loads(response["X-Result-Info"])
    assert (info["savedFileId"], info["savedVersion"]) == (str(file.pk), 2)


def test_file_id_alone_reads_the_latest_version_as_input(user_client, user):
    file = stored(user)
    assert call(user_client, "resize", {"width": 300, "fileId": str(file.pk)}).status_code == 200

    response = call(user_client, "rotate", {"angle": 90, "fileId": str(file.pk)}, with_file=False)

    assert response.status_code == 200
    image = decoded(response)
    assert (image.width, image.height) == (200, 300)  # version 2 (300×200), turned
    chain = versions(file)
    assert [(v.number, v.tool_id, v.width) for v in chain] == [
        (1, "", 600),
        (2, "resize", 300),
        (3, "rotate", 200),
    ]
    assert Job.objects.get(pk=response["X-Job-Id"]).input_names == ["photo.jpg"]


def test_a_json_tool_reads_a_library_file_and_adds_no_version(user_client, user):
    file = stored(user)

    response = call(user_client, "info", {"fileId": str(file.pk)}, with_file=False)

    assert response.status_code == 200
    assert (response.json()["width"], response.json()["height"]) == (600, 400)
    assert len(versions(file)) == 1


def test_another_users_file_id_is_404_and_no_job_is_made(user_client, other_user):
    file = stored(other_user)

    response = call(user_client, "resize", {"width": 50, "fileId": str(file.pk)})

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert not Job.objects.exists()
    assert len(versions(file)) == 1


@pytest.mark.parametrize("bad", ["../../etc/passwd", "not-a-uuid"])
def test_a_malformed_file_id_is_404(user_client, bad):
    assert call(user_client, "resize", {"width": 50, "fileId": bad}).status_code == 404


def test_a_file_id_that_is_not_a_string_is_400(user_client):
    response = call(user_client, "resize", {"width": 50, "fileId": 12})
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")


def test_an_admin_may_version_another_users_file(admin_client, user):
    file = stored(user)
    assert call(admin_client, "resize", {"width": 64, "fileId": str(file.pk)}).status_code == 200
    assert [v.width for v in versions(file)] == [600, 64]


def test_a_pipeline_with_file_id_saves_a_pipeline_version(user_client, user):
    file = stored(user)
    steps = [
        {"toolId": "resize", "settings": {"width": 200}},
        {"toolId": "rotate", "settings": {"angle": 180}},
    ]

    response = user_client.post(
        "/api/v1/pipeline/execute",
        {"pipeline": json.dumps(steps), "fileId": str(file.pk)},
        format="multipart",
    )

    assert response.status_code == 200, response.content[:300]
    latest = versions(file)[-1]
    assert (latest.number, latest.source, latest.tool_id, latest.width) == (
        2,
        "pipeline",
        "pipeline",
        200,
    )
    assert latest.settings["steps"][0]["toolId"] == "resize"


def test_a_batch_with_file_ids_versions_each_library_file(user_client, user):
    first, second = stored(user, "a.jpg"), stored(user, "b.jpg")
    extra = SimpleUploadedFile("c.jpg", PHOTO.read_bytes(), "image/jpeg")

    response = user_client.post(
        "/api/v1/tools/resize/batch",
        {
            "files": [extra],
            "settings": json.dumps({"width": 90}),
            "fileIds": json.dumps([str(first.pk), str(second.pk)]),
        },
        format="multipart",
    )

    assert response.status_code == 200, response.content[:300]
    archive = zipfile.ZipFile(io.BytesIO(body_of(response)))
    manifest = json.loads(archive.read("manifest.json"))
    assert [f["savedVersion"] for f in manifest["files"]] == [None, 2, 2]
    for file in (first, second):
        assert [v.width for v in versions(file)] == [600, 90]
    assert pyvips.Image.new_from_buffer(archive.read("a_resize.jpg"), "").width == 90


def test_an_async_call_with_file_id_versions_the_file_when_the_job_ends(user_client, user):
    file = stored(user)
    response = user_client.post(
        "/api/v1/tools/resize",
        {"settings": json.dumps({"width": 77, "fileId": str(file.pk)})},
        format="multipart",
        HTTP_PREFER="respond-async",
    )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["jobId"])
    assert job.status == "completed"  # the test queue runs tasks at once
    assert [v.width for v in versions(file)] == [600, 77]


def test_a_result_over_the_quota_fails_the_job_and_adds_no_version(user_client, user, settings):
    file = stored(user)
    settings.STORAGE_QUOTA_MB = 1
    big = (pyvips.Image.gaussnoise(1200, 1200, sigma=80) + 128).cast("uchar")
    data = big.bandjoin([big, big]).write_to_buffer(".png")
    assert len(data) > 1024 * 1024

    response = user_client.post(
        "/api/v1/tools/convert",
        {
            "file": SimpleUploadedFile("big.png", data, "image/png"),
            "settings": json.dumps({"format": "png", "fileId": str(file.pk)}),
        },
        format="multipart",
    )

    assert (response.status_code, response.json()["code"]) == (413, "QUOTA_EXCEEDED")
    assert len(versions(file)) == 1


def test_a_retried_batch_does_not_save_a_second_version_of_any_file(user_client, user, monkeypatch):
    """The worker died after saving some versions; the retry runs every file again."""
    files = [stored(user, f"{name}.jpg") for name in "abc"]
    monkeypatch.setattr(services, "enqueue", lambda job: None)  # the test runs the attempts
    response = user_client.post(
        "/api/v1/tools/resize/batch",
        {
            "settings": json.dumps({"width": 90}),
            "fileIds": json.dumps([str(f.pk) for f in files]),
            "async": "true",
        },
        format="multipart",
    )
    job = Job.objects.get(pk=response["X-Job-Id"])
    monkeypatch.setattr(storage, "discard_working_files", lambda job: None)  # inputs stay

    execute.run_job(str(job.pk), 1)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # as the upkeep requeues
    execute.run_job(str(job.pk), 2)

    job.refresh_from_db()
    assert (job.status, job.attempts) == ("completed", 2)
    for file in files:
        assert [v.number for v in versions(file)] == [1, 2], file.name
    assert [f["savedVersion"] for f in job.result_info["files"]] == [2, 2, 2]


def test_too_many_file_ids_are_refused_before_any_is_looked_up(
    user_client, user, settings, django_assert_max_num_queries
):
    settings.MAX_BATCH_SIZE = 5
    ids = [str(uuid.uuid4()) for _ in range(20_000)]
    data = {"settings": json.dumps({"width": 9}), "fileIds": json.dumps(ids)}

    with django_assert_max_num_queries(8):  # sign-in and settings; no file lookups
        response = user_client.post("/api/v1/tools/resize/batch", data, format="multipart")

    body = assert_error(response, 400, "TOO_MANY_FILES")
    assert "20000 fileIds sent; a batch takes at most 5" in body["error"]


def test_file_ids_are_looked_up_together_and_one_unknown_id_is_404(user_client, user):
    files = [stored(user, f"{name}.jpg") for name in "ab"]
    ids = [str(files[1].pk), str(uuid.uuid4()), str(files[0].pk)]
    data = {"settings": json.dumps({"width": 9}), "fileIds": json.dumps(ids)}

    response = user_client.post("/api/v1/tools/resize/batch", data, format="multipart")

    assert_error(response, 404, "NOT_FOUND")
    assert not Job.objects.exists()
