"""The MCP tools' functions in-process, on the real stack (database, library, engine):
who may see what, where results go, and every refusal with our code and message."""

from __future__ import annotations

import base64

import pytest
import pyvips
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.errors import ApiError
from apps.jobs.models import Job
from apps.library.models import FileVersion, StoredFile
from apps.library.services import store_upload
from apps.mcpserver import catalog, runs
from apps.mcpserver.answers import INLINE_MAX_BYTES, job_answer
from apps.mcpserver.identity import Caller
from apps.siteconfig.registry import set_setting
from tests.api.library_support import noise_png
from tests.badfiles import FIXTURES
from tools.base import ToolError

pytestmark = pytest.mark.django_db


def small_png(width: int = 64, height: int = 48) -> bytes:
    crop = pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(200, 100, width, height)
    return bytes(crop.pngsave_buffer())


def library_file(owner, data: bytes | None = None) -> StoredFile:
    return store_upload(owner, SimpleUploadedFile("small.png", data or small_png()))


def failure(call, *args) -> ApiError | ToolError:
    with pytest.raises((ApiError, ToolError)) as caught:
        call(*args)
    return caught.value


def test_resize_on_a_library_file_becomes_its_next_version(user) -> None:
    stored = library_file(user)
    job = runs.run_tool(user, "resize", {"width": 32}, runs.Given(file_id=str(stored.pk)), True)

    assert job.status == Job.Status.COMPLETED
    stored.refresh_from_db()
    assert (stored.latest_version, stored.width, stored.height) == (2, 32, 24)
    version = stored.versions.get(number=2)
    assert version.source == FileVersion.Source.TOOL and version.tool_id == "resize"
    found = job_answer(job, "http://pixelsmith.test")
    assert found.data["file"]["id"] == str(stored.pk) and found.data["file"]["version"] == 2
    assert found.data["file"]["downloadUrl"] == (
        f"http://pixelsmith.test/api/v1/files/{stored.pk}/download?version=2"
    )
    assert found.data["result"]["downloadUrl"].endswith(f"/api/v1/jobs/{job.pk}/download")
    assert found.media_type == "image/png"
    assert pyvips.Image.new_from_buffer(found.image, "").width == 32


def test_a_base64_input_is_stored_first_so_the_result_has_a_library_file(user) -> None:
    data = "data:image/png;base64," + base64.b64encode(small_png()).decode()
    given = runs.Given(image_base64=data, filename="pasted.png")

    job = runs.run_tool(user, "resize", {"width": 16}, given, True)

    stored = StoredFile.objects.get(owner=user)
    assert stored.name == "pasted.png" and stored.version_count == 2
    assert (stored.versions.get(number=1).width, stored.width) == (64, 16)
    assert job.result_info["savedFileId"] == str(stored.pk)


def test_without_save_to_library_nothing_is_added_to_the_library(user) -> None:
    data = base64.b64encode(small_png()).decode()
    given = runs.Given(image_base64=data, save_to_library=False)

    job = runs.run_tool(user, "resize", {"width": 16}, given, True)

    assert job.status == Job.Status.COMPLETED and "savedFileId" not in job.result_info
    assert not StoredFile.objects.exists()
    assert "file" not in job_answer(job).data


def test_another_users_file_is_not_found(user, other_user) -> None:
    theirs = library_file(other_user)

    error = failure(runs.run_tool, user, "resize", {"width": 8}, runs.Given(str(theirs.pk)), True)
    assert (error.status_code, error.code) == (404, "NOT_FOUND")
    error = failure(catalog.get_file, Caller(user), str(theirs.pk))
    assert error.code == "NOT_FOUND"
    assert catalog.list_files(Caller(user)).data["total"] == 0
    assert not Job.objects.exists()  # refused before any job existed


def test_an_admin_sees_everyones_files(admin_user, other_user) -> None:
    theirs = library_file(other_user)
    assert catalog.get_file(Caller(admin_user), str(theirs.pk)).data["id"] == str(theirs.pk)


def test_another_users_job_is_not_found(user, other_user) -> None:
    theirs = library_file(other_user)
    job = runs.run_tool(other_user, "resize", {"width": 8}, runs.Given(str(theirs.pk)), True)

    for read in (catalog.get_job, catalog.cancel_job):
        error = failure(read, Caller(user), str(job.pk))
        assert (error.status_code, error.code) == (404, "NOT_FOUND")
    assert catalog.get_job(Caller(other_user), str(job.pk)).data["status"] == "completed"


@pytest.mark.parametrize(
    "given",
    [
        runs.Given(file_id="https://example.com/cat.png"),
        runs.Given(image_base64="http://169.254.169.254/latest/meta-data"),
        runs.Given(file_ids=["file:///etc/passwd"]),
    ],
)
def test_a_url_is_never_an_input(user, given: runs.Given) -> None:
    error = failure(runs.run_tool, user, "resize", {"width": 8}, given, True)
    assert (error.status_code, error.code) == (400, "URL_NOT_ALLOWED")
    assert "never URLs" in error.message


def test_bad_settings_name_the_field_before_anything_is_stored(user) -> None:
    data = base64.b64encode(small_png()).decode()
    given = runs.Given(image_base64=data)

    error = failure(runs.run_tool, user, "resize", {"width": 0}, given, True)

    assert error.code == "INVALID_SETTINGS" and error.message.startswith("width:")
    error = failure(runs.run_tool, user, "resize", {"widht": 10}, given, True)
    assert "widht" in error.message
    assert not StoredFile.objects.exists() and not Job.objects.exists()


def test_a_huge_base64_image_is_file_too_large(user, settings) -> None:
    settings.MAX_UPLOAD_SIZE_MB = 1
    huge = base64.b64encode(b"\0" * (1024 * 1024 + 10)).decode()

    error = failure(
        runs.run_tool, user, "resize", {"width": 8}, runs.Given(image_base64=huge), True
    )

    assert (error.status_code, error.code) == (413, "FILE_TOO_LARGE")
    assert not StoredFile.objects.exists()


def test_invalid_base64_and_two_kinds_of_input_are_refused(user) -> None:
    stored = library_file(user)
    error = failure(runs.run_tool, user, "resize", {"width": 8}, runs.Given(image_base64="*"), True)
    assert error.code == "INVALID_BASE64"
    both = runs.Given(file_id=str(stored.pk), image_base64=base64.b64encode(b"x").decode())
    error = failure(runs.run_tool, user, "resize", {"width": 8}, both, True)
    assert error.code == "VALIDATION_ERROR" and "only one" in error.message
    error = failure(runs.run_tool, user, "resize", {"width": 8}, runs.Given(), True)
    assert error.code == "NO_FILE"
    two = runs.Given(file_ids=[str(stored.pk), str(stored.pk)])
    error = failure(runs.run_tool, user, "resize", {"width": 8}, two, True)
    assert error.code == "WRONG_INPUT_COUNT"


def test_unknown_and_disabled_tools_are_refused(user) -> None:
    given = runs.Given(file_id=str(library_file(user).pk))
    assert failure(runs.run_tool, user, "no-such-tool", {}, given, True).code == "TOOL_NOT_FOUND"
    set_setting("disabledTools", ["resize"])
    error = failure(runs.run_tool, user, "resize", {"width": 8}, given, True)
    assert (error.status, error.code) == (403, "TOOL_DISABLED")
    listed = {t["id"]: t for t in catalog.list_tools(Caller(user)).data["tools"]}
    assert listed["resize"]["enabled"] is False and listed["rotate"]["enabled"] is True


def test_list_tools_gives_each_tools_settings_schema(user) -> None:
    tools = catalog.list_tools(Caller(user)).data["tools"]
    resize = next(t for t in tools if t["id"] == "resize")
    width = resize["settings"]["properties"]["width"]
    assert {"type": "integer", "minimum": 1, "maximum": 16383} in width["anyOf"]
    assert resize["inputs"] == "one" and resize["output"] == "image"
    upscalers = catalog.list_tools(Caller(user), "ai").data["tools"]
    assert upscalers and all(t["category"] == "ai" for t in upscalers)


def test_a_pipeline_runs_every_step_and_versions_the_file(user) -> None:
    stored = library_file(user)
    steps = [
        {"toolId": "rotate", "settings": {"angle": 90}},
        {"toolId": "resize", "settings": {"width": 12}},
    ]
    job = runs.run_pipeline(user, steps, runs.Given(file_id=str(stored.pk)), True)

    assert job.status == Job.Status.COMPLETED
    stored.refresh_from_db()
    assert (stored.width, stored.height) == (12, 16)  # 48×64 after the turn, then 12 wide
    assert stored.versions.get(number=2).source == FileVersion.Source.PIPELINE


def test_a_bad_pipeline_step_is_named_before_any_job(user) -> None:
    steps = [{"toolId": "rotate", "settings": {"angle": 90}}, {"toolId": "resize"}]
    error = failure(runs.run_pipeline, user, steps, runs.Given(str(library_file(user).pk)), True)
    assert error.code == "INVALID_SETTINGS" and error.message.startswith("Step 2 (resize)")
    assert not Job.objects.exists()


def test_not_waiting_queues_the_job_and_answers_its_id(user) -> None:
    stored = library_file(user)
    job = runs.run_tool(user, "resize", {"width": 8}, runs.Given(str(stored.pk)), wait=False)
    # Tests run django-q in sync mode: queued means run at once, through the real queue path.
    assert Job.objects.get(pk=job.pk).status == Job.Status.COMPLETED
    assert catalog.get_job(Caller(user), str(job.pk)).data["file"]["id"] == str(stored.pk)


def test_a_large_result_is_not_inlined(user) -> None:
    stored = library_file(user, noise_png(700, 600))  # noise: the PNG stays ~1.2 MB
    given = runs.Given(file_id=str(stored.pk), save_to_library=False)
    job = runs.run_tool(user, "resize", {"width": 700, "format": "png"}, given, True)

    found = job_answer(job)
    assert job.result_size > INLINE_MAX_BYTES
    assert found.image is None and found.data["result"]["downloadUrl"]


def test_list_files_pages_and_searches(user) -> None:
    for name in ("cat.png", "dog.png", "catalog.png"):
        store_upload(user, SimpleUploadedFile(name, small_png()))
    found = catalog.list_files(Caller(user), search="CAT", limit=1).data
    assert found["total"] == 2 and len(found["files"]) == 1
    error = failure(catalog.list_files, Caller(user), "", 0)
    assert error.code == "VALIDATION_ERROR"


def test_get_file_lists_versions_and_can_show_the_image(user) -> None:
    stored = library_file(user)
    runs.run_tool(user, "resize", {"width": 20}, runs.Given(str(stored.pk)), True)

    found = catalog.get_file(Caller(user), str(stored.pk), True)

    assert [v["number"] for v in found.data["versions"]] == [1, 2]
    assert found.data["versions"][1]["provenance"]["toolId"] == "resize"
    assert pyvips.Image.new_from_buffer(found.image, "").width == 20


def test_queue_gpu_and_models_answer(user) -> None:
    assert catalog.queue_status(Caller(user)).data["queueLength"] == 0
    gpu = catalog.gpu_status(Caller(user)).data
    assert isinstance(gpu["gpus"], list) and "providers" in gpu["onnxruntime"]
    models = catalog.list_models(Caller(user), "upscale").data["models"]
    assert models and all(m["task"] == "upscale" for m in models)
    assert "realesr-animevideov3" in {m["id"] for m in models}


def test_list_tools_can_name_one_tool_or_leave_the_schemas_out(user) -> None:
    one = catalog.list_tools(Caller(user), tool_id="rotate").data
    assert [t["id"] for t in one["tools"]] == ["rotate"] and "settings" in one["tools"][0]
    short = catalog.list_tools(Caller(user), include_schemas=False).data
    assert short["count"] > 40 and all("settings" not in t for t in short["tools"])
    assert failure(catalog.list_tools, Caller(user), None, "nope").code == "TOOL_NOT_FOUND"
