"""Where a job runs (apps.jobs.placement) and what it runs with (apps.jobs.context)."""

import dataclasses
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs import execute, services, storage
from apps.jobs.context import QuietReporter, Reporter, context_for
from apps.jobs.models import Job
from apps.jobs.placement import place
from apps.library.services import store_upload
from tests.api.jobs_support import PHOTO, make_job, photo, with_input
from tools import registry
from tools.ai.store import process_store
from tools.base import Tool

pytestmark = pytest.mark.django_db

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
    b'<rect width="40" height="30"/></svg>'
)


def variant(**changes: Any) -> Tool:
    resize = registry.get("resize")
    assert resize is not None
    return dataclasses.replace(resize, **changes)


@pytest.fixture
def fake_tool(monkeypatch: pytest.MonkeyPatch):
    """Register `fake`, a variant of resize with the given properties."""

    def register(**changes: Any) -> Tool:
        tool = variant(id="fake", **changes)
        monkeypatch.setitem(registry._tools(), "fake", tool)
        return tool

    return register


@pytest.fixture
def no_worker(monkeypatch: pytest.MonkeyPatch) -> list[Job]:
    """Jobs are enqueued but no worker takes them; the sync wait gives up after 1 s."""
    sent: list[Job] = []
    monkeypatch.setattr(services, "enqueue", sent.append)
    monkeypatch.setattr(services, "run_inline", _must_not_run_inline)
    return sent


def _must_not_run_inline(job: Job) -> Job:
    raise AssertionError(f"job {job.pk} ran inside the request")


# --- the rule ---------------------------------------------------------------------------


def test_a_fast_cpu_tool_runs_inline(settings):
    settings.GPU_QUEUE = True
    where = place([variant()], each_file=False, input_formats=["jpeg"])
    assert (where.inline, where.queue) == (True, "cpu")


def test_a_slow_cpu_tool_goes_to_the_cpu_queue():
    where = place([variant(inline=False)], each_file=False)
    assert (where.inline, where.queue) == (False, "cpu")


def test_a_tool_that_needs_a_model_never_runs_inline_even_if_declared_fast():
    where = place([variant(models=("u2netp",))], each_file=False)
    assert (where.inline, where.queue) == (False, "cpu")


@pytest.mark.parametrize(("gpu_queue", "queue"), [(True, "gpu"), (False, "cpu")])
def test_a_gpu_tool_goes_to_the_gpu_queue_only_when_one_is_configured(settings, gpu_queue, queue):
    settings.GPU_QUEUE = gpu_queue
    where = place([variant(device="gpu")], each_file=False)
    assert (where.inline, where.queue) == (False, queue)


def test_one_gpu_step_places_the_whole_chain(settings):
    settings.GPU_QUEUE = True
    where = place([variant(), variant(device="gpu"), variant()], each_file=False)
    assert (where.inline, where.queue) == (False, "gpu")


def test_a_batch_never_runs_inline():
    assert not place([variant()], each_file=True).inline


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_an_input_whose_decoding_cost_is_unbounded_never_runs_inline(fmt):
    assert not place([variant()], each_file=False, input_formats=["jpeg", fmt]).inline


# --- the rule, applied to requests -------------------------------------------------------


def test_a_model_tool_call_is_queued_not_run_in_the_web_process(
    user_client, fake_tool, no_worker, settings
):
    settings.SYNC_WAIT_S = 1
    fake_tool(models=("some-model",))

    response = user_client.post(
        "/api/v1/tools/fake", {"file": photo(), "settings": json.dumps({"width": 10})}
    )

    assert response.status_code == 202  # the wait ran out: nobody took the job
    job = Job.objects.get(pk=response["X-Job-Id"])
    assert (job.status, job.queue) == ("queued", "cpu")
    assert [j.pk for j in no_worker] == [job.pk]


def test_an_svg_sent_to_a_fast_tool_is_rendered_by_a_worker(user_client, no_worker, settings):
    settings.SYNC_WAIT_S = 1
    svg = SimpleUploadedFile("drawing.svg", SVG, content_type="image/svg+xml")

    response = user_client.post(
        "/api/v1/tools/resize", {"file": svg, "settings": json.dumps({"width": 10})}
    )

    assert response.status_code == 202
    assert [str(j.pk) for j in no_worker] == [response["X-Job-Id"]]


def test_a_fast_tool_on_a_photo_runs_in_the_request(user_client, monkeypatch):
    monkeypatch.setattr(services, "enqueue", lambda job: pytest.fail("queued a fast job"))
    response = user_client.post(
        "/api/v1/tools/resize", {"file": photo(), "settings": json.dumps({"width": 10})}
    )
    assert response.status_code == 200


# --- context_for ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("queue", "worker", "device"),
    [("gpu", "gpu", "gpu"), ("gpu", "cpu", "cpu"), ("cpu", "gpu", "cpu"), ("cpu", "cpu", "cpu")],
)
def test_context_for_gives_the_gpu_only_to_gpu_jobs_in_a_gpu_worker(
    user, settings, queue, worker, device
):
    settings.Q_CLUSTER_NAME = worker
    settings.MAX_MEGAPIXELS = 7
    job = make_job(user, queue=queue)

    ctx = context_for(job, Reporter(job.pk))

    assert ctx.device == device
    assert ctx.max_megapixels == 7
    assert ctx.scratch_dir == storage.work_dir(job)
    assert ctx.models is process_store()  # one store per process, shared by its jobs
    assert ctx.watched


def test_a_job_answered_in_its_own_request_is_not_watched(user):
    """Nobody can follow or cancel it: its tools skip the cost of reporting progress."""
    job = make_job(user)
    assert not context_for(job, QuietReporter(job.pk)).watched


def test_a_tool_run_by_a_gpu_worker_sees_the_gpu(user, settings, fake_tool):
    settings.Q_CLUSTER_NAME = "gpu"
    seen: list[tuple[str, Any]] = []
    resize = registry.get("resize")
    assert resize is not None

    def run(sources: Any, tool_settings: Any, ctx: Any) -> Any:
        seen.append((ctx.device, ctx.models))
        return resize.run(sources, tool_settings, ctx)

    fake_tool(device="gpu", run=run)
    job = with_input(make_job(user, tool_id="fake", settings={"width": 10}, queue="gpu"))

    execute.run_job(str(job.pk), 1)

    job.refresh_from_db()
    assert job.status == "completed", job.error_message
    assert seen == [("gpu", process_store())]


def test_a_result_names_its_engine_model_sha256_and_device(user_client, user, fake_tool):
    """What an AI tool reports (from its model's session) reaches the headers, the job
    and a library version's provenance."""
    resize = registry.get("resize")
    assert resize is not None

    def run(sources: Any, tool_settings: Any, ctx: Any) -> Any:
        output = resize.run(sources, tool_settings, ctx)
        output.engine, output.model = "onnxruntime 1.x (CPUExecutionProvider)", "tiny-model"
        output.model_sha256, output.device = "ab" * 32, "cpu"
        return output

    fake_tool(run=run)
    stored = store_upload(user, SimpleUploadedFile("p.jpg", PHOTO))
    data = {"settings": json.dumps({"width": 10, "fileId": str(stored.pk)})}

    response = user_client.post("/api/v1/tools/fake", data)

    assert response.status_code == 200, response.content[:300]
    assert response["X-Model"] == "tiny-model" and response["X-Device"] == "cpu"
    assert response["X-Model-Sha256"] == "ab" * 32
    job = user_client.get(f"/api/v1/jobs/{response['X-Job-Id']}").json()
    assert (job["model"], job["modelSha256"], job["device"]) == ("tiny-model", "ab" * 32, "cpu")
    version = user_client.get(f"/api/v1/files/{stored.pk}").json()["versions"][-1]["provenance"]
    assert (version["modelSha256"], version["device"]) == ("ab" * 32, "cpu")


def test_a_classic_tool_says_it_ran_on_the_cpu(user_client):
    response = user_client.post(
        "/api/v1/tools/resize", {"file": photo(), "settings": json.dumps({"width": 10})}
    )
    assert response["X-Device"] == "cpu" and "X-Model-Sha256" not in response
