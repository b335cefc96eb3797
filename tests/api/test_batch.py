"""POST /api/v1/tools/<toolId>/batch: one tool over many files, answered with a ZIP."""

import io
import json
import uuid
import zipfile
from typing import Any
from urllib.parse import unquote

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs import batch, context, execute, services, storage
from apps.jobs.models import Job
from apps.jobs.steps import tool_step
from tests.api.support import assert_error
from tests.badfiles import FIXTURES, text_as_jpeg, truncated_jpeg
from tools import registry, runner
from tools.base import Cancelled, Context, Inputs, Output, Source

BOUNDARY = "batch-test-boundary"
PHOTOS = ("photo.jpg", "transparent.png", "photo_rotated.jpg")


def entry(name: str, tag: str = "resize") -> str:
    """A batch's ZIP entry for an input: named as a single download (`photo_resize.jpg`)."""
    stem, dot, ext = name.rpartition(".")
    return f"{stem}_{tag}{dot}{ext}"


W = {"width": 16}


def fixture(name: str) -> tuple[str, bytes]:
    return name, (FIXTURES / name).read_bytes()


def multipart(files: list[tuple[str, bytes]], settings: Any = None, field: str = "files") -> bytes:
    """A multipart body with the file names exactly as given (the test client strips paths)."""
    parts = []
    for name, data in files:
        head = f'Content-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        head += "Content-Type: application/octet-stream\r\n\r\n"
        parts.append(f"--{BOUNDARY}\r\n{head}".encode() + data + b"\r\n")
    if settings is not None:
        value = settings if isinstance(settings, str) else json.dumps(settings)
        head = 'Content-Disposition: form-data; name="settings"\r\n\r\n'
        parts.append(f"--{BOUNDARY}\r\n{head}{value}\r\n".encode())
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post_batch(
    client: Any, tool_id: str, files: list[tuple[str, bytes]], settings: Any = None, **extra: Any
) -> Any:
    return client.post(
        f"/api/v1/tools/{tool_id}/batch",
        data=multipart(files, settings),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        **extra,
    )


def zip_of(response: Any) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def manifest_of(archive: zipfile.ZipFile) -> dict[str, Any]:
    assert archive.namelist()[-1] == "manifest.json"
    return json.loads(archive.read("manifest.json"))


def file_results(response: Any) -> dict[str, Any]:
    return json.loads(unquote(response["X-File-Results"]))


def test_a_batch_resize_returns_a_zip_of_resized_images_and_a_manifest(user_client, user):
    response = post_batch(user_client, "resize", [fixture(n) for n in PHOTOS], {"width": 64})

    archive = zip_of(response)
    assert sorted(archive.namelist()) == sorted([*map(entry, PHOTOS), "manifest.json"])
    for name in map(entry, PHOTOS):
        assert pyvips.Image.new_from_buffer(archive.read(name), "").width == 64
        assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED
    manifest = manifest_of(archive)
    assert (manifest["total"], manifest["completed"], manifest["failed"]) == (3, 3, 0)
    assert manifest["files"] == [
        {
            "index": i,
            "name": n,
            "status": "completed",
            "output": entry(n),
            "error": None,
            "savedVersion": None,
        }
        for i, n in enumerate(PHOTOS)
    ]
    assert file_results(response) == {
        str(i): {"name": n, "status": "completed", "output": entry(n)} for i, n in enumerate(PHOTOS)
    }
    job = Job.objects.get(pk=uuid.UUID(response["X-Job-Id"]))
    assert (job.kind, job.owner, job.status) == (Job.Kind.BATCH, user, Job.Status.COMPLETED)
    assert (job.items_total, job.items_done, job.items_failed) == (3, 3, 0)
    assert f'filename="batch-resize-{job.pk.hex[:8]}.zip"' in response["Content-Disposition"]


def test_duplicate_names_get_numbered_in_upload_order(user_client):
    files = [fixture("photo.jpg"), fixture("photo.jpg"), ("PHOTO.jpg", fixture("photo.jpg")[1])]
    archive = zip_of(post_batch(user_client, "resize", files, {"width": 32}))

    outputs = [f["output"] for f in manifest_of(archive)["files"]]
    assert outputs == ["photo_resize.jpg", "photo_resize (2).jpg", "PHOTO_resize (3).jpg"]
    assert set(archive.namelist()) == {*outputs, "manifest.json"}


@pytest.mark.parametrize(
    "name",
    ["../../evil.jpg", "/abs/x.jpg", "..\\win.jpg", "...jpg", ".hidden.jpg", "é\u202egpj.jpg"],
)
def test_hostile_names_become_safe_entries(user_client, name):
    archive = zip_of(post_batch(user_client, "resize", [(name, fixture("photo.jpg")[1])], W))

    entry = manifest_of(archive)["files"][0]["output"]
    assert entry in archive.namelist()
    assert not entry.startswith(("/", ".")) and ".." not in entry
    assert "/" not in entry and "\\" not in entry and "\u202e" not in entry
    assert entry.endswith(".jpg")


def test_unicode_names_are_kept(user_client):
    response = post_batch(user_client, "resize", [("café 東京.jpg", fixture("photo.jpg")[1])], W)

    assert zip_of(response).namelist()[0] == "café 東京_resize.jpg"
    assert file_results(response)["0"]["output"] == "café 東京_resize.jpg"
    assert response["X-File-Results"].isascii()


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("a/b\\c.tar.gz", "c.tar"),
        ("..", "file"),
        ("a..b.png", "a.b"),
        ('what?<is>:"this"|*.jpg', "what__is___this___"),
        ("CON.jpg", "_CON"),
        ("tab\there\x00.jpg", "tabhere"),
        ("é" * 200 + ".jpg", "é" * 75),
    ],
)
def test_safe_stem_strips_what_an_unzip_could_misuse(name, stem):
    assert batch.safe_stem(name) == stem


def test_entry_stems_never_take_the_manifest_name():
    assert batch.entry_stems(["manifest.png", "Manifest.jpg"]) == ["manifest (2)", "Manifest (3)"]
    assert batch.entry_stems(["a.png", "A.jpg"], "convert") == ["a_convert", "A_convert (2)"]


def test_batch_entries_never_overwrite_the_originals_when_unzipped_beside_them(user_client):
    archive = zip_of(post_batch(user_client, "resize", [fixture(n) for n in PHOTOS], W))

    assert not {n.lower() for n in archive.namelist()} & {n.lower() for n in PHOTOS}


def test_a_text_file_fails_alone_and_the_others_succeed(user_client):
    files = [fixture("photo.jpg"), ("notes.jpg", text_as_jpeg()), fixture("transparent.png")]
    response = post_batch(user_client, "resize", files, {"width": 40})

    archive = zip_of(response)
    assert set(archive.namelist()) == {
        "photo_resize.jpg",
        "transparent_resize.png",
        "manifest.json",
    }
    failed = manifest_of(archive)["files"][1]
    assert failed["status"] == "failed" and failed["output"] is None
    assert failed["error"]["code"] == "UNSUPPORTED_FORMAT"
    assert "notes.jpg" in failed["error"]["message"]
    assert file_results(response)["1"] == {"name": "notes.jpg", "status": "failed", "output": None}
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert (job.items_total, job.items_done, job.items_failed) == (3, 2, 1)


def test_when_every_file_fails_the_batch_is_422(user_client):
    files = [("a.jpg", text_as_jpeg()), ("b.jpg", truncated_jpeg())]
    body = assert_error(post_batch(user_client, "resize", files, W), 422, "ALL_FILES_FAILED")

    assert "a.jpg" in body["error"]
    job = Job.objects.get(each_file=True)
    assert job.status == Job.Status.FAILED and job.items_failed == 2


def test_201_files_are_refused_before_anything_is_stored(user_client, settings):
    tiny = fixture("photo.jpg")[1][:64]  # never read: the count is checked first
    response = post_batch(user_client, "resize", [(f"{i}.jpg", tiny) for i in range(201)], W)

    assert_error(response, 400, "TOO_MANY_FILES")
    assert not Job.objects.exists()
    assert not (settings.DATA_DIR / "jobs").exists()


def test_max_batch_size_is_configurable(user_client, settings):
    settings.MAX_BATCH_SIZE = 3
    files = [fixture("photo.jpg")] * 4
    assert_error(post_batch(user_client, "resize", files, W), 400, "TOO_MANY_FILES")
    assert zip_of(post_batch(user_client, "resize", files[:3], {"width": 8}))


def test_no_files_is_400(user_client):
    assert_error(post_batch(user_client, "resize", [], {"width": 8}), 400, "NO_FILE")


def test_repeated_file_fields_are_accepted_too(user_client):
    response = user_client.post(
        "/api/v1/tools/resize/batch",
        data=multipart([fixture("photo.jpg"), fixture("transparent.png")], W, field="file"),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert len(manifest_of(zip_of(response))["files"]) == 2


def test_invalid_settings_are_refused_before_any_job(user_client):
    body = assert_error(
        post_batch(user_client, "resize", [fixture("photo.jpg")], {"width": -5}),
        400,
        "INVALID_SETTINGS",
    )
    assert "width" in body["error"]
    assert not Job.objects.exists()


def test_a_tool_that_does_not_take_one_image_cannot_batch(user_client, monkeypatch):
    resize = registry.get("resize")
    assert resize is not None
    two = type(resize)(**{**resize.__dict__, "inputs": Inputs.TWO})
    monkeypatch.setattr(registry, "get", lambda tool_id: two)

    response = post_batch(user_client, "resize", [fixture("photo.jpg")], W)
    assert_error(response, 400, "NOT_BATCHABLE")


def test_an_unknown_tool_is_404(user_client):
    assert_error(post_batch(user_client, "nope", [fixture("photo.jpg")], W), 404, "TOOL_NOT_FOUND")


def test_async_answers_202_then_the_job_downloads_the_same_zip(user_client):
    files = [fixture(n) for n in PHOTOS]
    response = post_batch(user_client, "resize", files, {"width": 50}, HTTP_PREFER="respond-async")

    assert response.status_code == 202
    job_id = response.json()["jobId"]
    status = user_client.get(f"/api/v1/jobs/{job_id}").json()
    assert status["status"] == "completed" and status["items"] == {
        "total": 3,
        "done": 3,
        "failed": 0,
    }
    assert status["result"]["info"]["completed"] == 3
    download = user_client.get(f"/api/v1/jobs/{job_id}/download")
    archive = zip_of(download)
    assert set(archive.namelist()) == {*map(entry, PHOTOS), "manifest.json"}
    assert file_results(download)["2"]["output"] == "photo_rotated_resize.jpg"
    assert json.loads(download["X-Result-Info"]) == {"total": 3, "completed": 3, "failed": 0}


def test_another_users_batch_is_404(user_client, client_for, other_user, session_token):
    response = post_batch(
        user_client, "resize", [fixture("photo.jpg")], W, HTTP_PREFER="respond-async"
    )
    job_id = response.json()["jobId"]

    other = client_for(session_token(other_user))
    assert_error(other.get(f"/api/v1/jobs/{job_id}/download"), 404, "NOT_FOUND")
    assert_error(other.get(f"/api/v1/jobs/{job_id}"), 404, "NOT_FOUND")


def test_a_json_tool_puts_one_json_entry_per_file(user_client):
    archive = zip_of(post_batch(user_client, "info", [fixture(n) for n in PHOTOS[:2]]))

    assert set(archive.namelist()) == {"photo_info.json", "transparent_info.json", "manifest.json"}
    assert archive.getinfo("photo_info.json").compress_type == zipfile.ZIP_DEFLATED
    source = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg"))
    assert json.loads(archive.read("photo_info.json"))["width"] == source.width


def test_a_cancel_between_files_stops_the_batch(user_client, settings, monkeypatch):
    """The first file finishes; the cancel is seen before the next starts: job cancelled."""
    settings.CONCURRENT_JOBS = 1
    monkeypatch.setattr(context, "PROGRESS_INTERVAL_S", 0)

    class CancelAfterFirstFile(context.Reporter):
        def progress(self, percent: float, message: str = "", **fields: Any) -> None:
            super().progress(percent, message, **fields)
            if fields.get("items_done"):
                Job.objects.filter(pk=self.job_id).update(cancel_requested=True)

    monkeypatch.setattr(execute, "Reporter", CancelAfterFirstFile)
    response = post_batch(user_client, "resize", [fixture(n) for n in PHOTOS], {"width": 20})

    assert_error(response, 409, "JOB_CANCELLED")
    job = Job.objects.get(each_file=True)
    assert job.status == Job.Status.CANCELLED
    assert (job.items_done, job.items_failed) == (1, 0)
    assert not job.result_file


class FakeReporter:
    """Records progress; is cancelled when told (no database: for zip_each on its own)."""

    def __init__(self) -> None:
        self.cancelled = False
        self.reports: list[tuple[float, str, dict[str, Any]]] = []

    def progress(self, percent: float, message: str = "", **fields: Any) -> None:
        self.reports.append((percent, message, fields))

    def is_cancelled(self) -> bool:
        return self.cancelled


def stored_batch(owner: Any, count: int) -> Job:
    uploads = [SimpleUploadedFile(f"p{i}.jpg", fixture("photo.jpg")[1]) for i in range(count)]
    resize = registry.get("resize")
    assert resize is not None
    work = services.Work([tool_step(resize, {"width": 10})], uploads=uploads, each_file=True)
    return services.create_job(owner, work)


def resize_to(width: int) -> Any:
    tool = registry.get("resize")
    assert tool is not None

    def process(source: Source, ctx: Context) -> Output:
        assert ctx.scratch_dir.name.isdigit()  # each file has a scratch dir of its own
        return runner.execute(tool, [source], {"width": width}, ctx)

    return process


def test_zip_each_reports_each_file_and_names_the_zip_by_tag(user):
    job, reporter = stored_batch(user, 2), FakeReporter()

    ctx = Context(storage.work_dir(job))
    outcome = batch.zip_each(job, reporter, ctx, resize_to(10), "demo")  # type: ignore[arg-type]

    assert outcome.name == f"batch-demo-{job.pk.hex[:8]}.zip"
    assert outcome.media_type == "application/zip" and "libvips" in outcome.engine
    assert outcome.path is not None
    assert sorted(zipfile.ZipFile(outcome.path).namelist()) == [
        "manifest.json",
        "p0_demo.jpg",
        "p1_demo.jpg",
    ]
    with_items = [(m, f) for _, m, f in reporter.reports if f]
    assert with_items[-1] == ("2/2 files", {"items_done": 2, "items_failed": 0})
    assert reporter.reports[-1][0] == 100


def test_zip_each_lists_each_finished_file_while_the_batch_runs(user, settings, monkeypatch):
    settings.CONCURRENT_JOBS = 1
    monkeypatch.setattr(batch, "FILE_LIST_INTERVAL_S", 0)  # every file, not once a second
    job, reporter = stored_batch(user, 2), FakeReporter()

    batch.zip_each(job, reporter, Context(storage.work_dir(job)), resize_to(10), "t")  # type: ignore[arg-type]

    listed = [f["result_info"]["files"] for _, _, f in reporter.reports if "result_info" in f]
    assert [[line["name"] for line in files] for files in listed] == [
        ["p0.jpg"],
        ["p0.jpg", "p1.jpg"],
    ]
    assert listed[0][0]["status"] == "completed" and listed[0][0]["output"] == "p0_t.jpg"


def test_a_running_batchs_detail_shows_the_files_finished_so_far(user_client, user):
    job = stored_batch(user, 3)
    lines = [
        {"index": 0, "name": "p0.jpg", "status": "failed", "error": {"code": "X", "message": "m"}}
    ]
    Job.objects.filter(pk=job.pk).update(status=Job.Status.PROCESSING, result_info={"files": lines})

    detail = user_client.get(f"/api/v1/jobs/{job.pk}").json()

    assert detail["files"] == lines


def test_zip_each_stops_starting_files_once_cancelled(user, settings):
    settings.CONCURRENT_JOBS = 1
    job, reporter = stored_batch(user, 3), FakeReporter()
    resize = resize_to(10)
    calls: list[str] = []

    def cancel_then_resize(source: Source, ctx: Context) -> Output:
        calls.append(source.name)
        reporter.cancelled = True
        return resize(source, ctx)

    with pytest.raises(Cancelled):
        ctx = Context(storage.work_dir(job))
        batch.zip_each(job, reporter, ctx, cancel_then_resize, "demo")  # type: ignore[arg-type]
    assert calls == ["p0.jpg"]


def test_per_file_results_too_long_for_a_header_stay_in_the_manifest(user_client, monkeypatch):
    monkeypatch.setattr(batch, "FILE_RESULTS_HEADER_MAX", 50)
    response = post_batch(user_client, "resize", [fixture(n) for n in PHOTOS], W)

    assert "X-File-Results" not in response
    assert json.loads(response["X-Result-Info"]) == {"total": 3, "completed": 3, "failed": 0}
    assert len(manifest_of(zip_of(response))["files"]) == 3


def test_stitch_with_one_file_is_refused_before_any_job(user_client):
    photo = SimpleUploadedFile("a.jpg", (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")
    response = user_client.post(
        "/api/v1/tools/stitch",
        {"files": [photo], "settings": '{"direction": "vertical"}'},
        format="multipart",
    )

    assert "2 or more files" in assert_error(response, 400, "WRONG_INPUT_COUNT")["error"]
    assert not Job.objects.exists()
