"""POST /api/v1/jobs/<id>/cancel: queued jobs end at once, running ones at their next boundary."""

import pytest

from apps.jobs import context, execute, services, storage
from apps.jobs.models import Job
from tests.api.jobs_support import make_job, post_tool, tree, with_input, with_result
from tools import registry
from tools.base import Cancelled, Context, Inputs, Output, OutputKind, Tool, ToolSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_worker(monkeypatch):
    sent: list[Job] = []
    monkeypatch.setattr(services, "enqueue", sent.append)
    return sent


@pytest.fixture
def prompt_checks(monkeypatch):
    """Reporter reads the cancel flag on every check instead of at most twice a second."""
    monkeypatch.setattr(context, "PROGRESS_INTERVAL_S", 0)


def test_a_queued_job_is_cancelled_at_once(user_client, no_worker):
    submitted = post_tool(user_client, "convert", {"format": "png"}, HTTP_PREFER="respond-async")
    job_id = submitted["X-Job-Id"]

    response = user_client.post(f"/api/v1/jobs/{job_id}/cancel")

    assert response.status_code == 200
    assert response.json() == {"jobId": job_id, "status": "cancelled"}
    job = Job.objects.get(pk=job_id)
    assert job.status == "cancelled" and job.cancel_requested
    assert job.finished_at is not None and job.started_at is None
    assert tree(storage.job_dir(job)) == []  # its upload is not kept for nothing
    assert user_client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "cancelled"


def test_the_worker_does_nothing_with_a_job_cancelled_while_queued(user_client, no_worker):
    submitted = post_tool(user_client, "convert", {"format": "png"}, HTTP_PREFER="respond-async")
    job_id = submitted["X-Job-Id"]
    user_client.post(f"/api/v1/jobs/{job_id}/cancel")

    execute.run_job(job_id, 1)  # the worker's task arrives afterwards

    job = Job.objects.get(pk=job_id)
    assert job.status == "cancelled" and job.attempts == 0 and job.started_at is None
    assert job.result_file == ""


def test_a_processing_job_is_asked_to_stop(user_client, user):
    job = make_job(user, status=Job.Status.PROCESSING, attempts=1)

    response = user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.status_code == 202
    assert response.json() == {"jobId": str(job.pk), "status": "cancelling"}
    job.refresh_from_db()
    assert job.cancel_requested and job.status == "processing" and job.finished_at is None


@pytest.mark.parametrize("status", [Job.Status.COMPLETED, Job.Status.FAILED, Job.Status.CANCELLED])
def test_a_finished_job_cannot_be_cancelled(user_client, user, status):
    job = make_job(user, status=status)

    response = user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert response.status_code == 409
    assert response.json()["code"] == "JOB_FINISHED"
    assert status in response.json()["error"]
    job.refresh_from_db()
    assert job.status == status and not job.cancel_requested


def test_a_completed_job_keeps_its_result_when_a_cancel_comes_late(user_client, user):
    job = with_result(make_job(user, tool_id="resize"))

    assert user_client.post(f"/api/v1/jobs/{job.pk}/cancel").status_code == 409
    assert user_client.get(f"/api/v1/jobs/{job.pk}/download").status_code == 200


def test_the_reporter_sees_a_cancel_sent_while_the_job_runs(user_client, user, prompt_checks):
    job = make_job(user, status=Job.Status.PROCESSING, attempts=1)
    reporter = context.Reporter(job.pk)
    ctx = context.context_for(job, reporter)

    ctx.check_cancelled()  # not cancelled: nothing happens
    user_client.post(f"/api/v1/jobs/{job.pk}/cancel")

    assert reporter.is_cancelled()
    with pytest.raises(Cancelled):
        ctx.check_cancelled()


def test_the_reporter_reads_the_flag_at_most_twice_a_second(user, monkeypatch):
    job = make_job(user, status=Job.Status.PROCESSING)
    clock = [1000.0]
    monkeypatch.setattr(context.time, "monotonic", lambda: clock[0])
    reporter = context.Reporter(job.pk)

    assert not reporter.is_cancelled()
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    clock[0] += 0.1
    assert not reporter.is_cancelled()  # read 0.1 s ago: not read again yet
    clock[0] += context.PROGRESS_INTERVAL_S
    assert reporter.is_cancelled()


def test_progress_is_written_twice_a_second_but_a_new_stage_at_once(user, monkeypatch):
    """AVIF: its pixels take 25 ms, then its encode seconds without a call: the row must
    say "encoding avif" then, not the stage before."""
    job = make_job(user, status=Job.Status.PROCESSING)
    clock = [1000.0]
    monkeypatch.setattr(context.time, "monotonic", lambda: clock[0])
    reporter = context.Reporter(job.pk)
    written = []
    for percent, message in [
        (5, "reading header"),
        (70, "computing pixels: 0 %"),
        (73, "computing pixels: 20 %"),
        (84.5, "encoding avif"),
        (84.5, "encoding avif"),
    ]:
        clock[0] += 0.01
        reporter.progress(percent, message)
        written.append(Job.objects.values_list("message", flat=True).get(pk=job.pk))

    assert written == [
        "reading header",
        "computing pixels: 0 %",
        "computing pixels: 0 %",  # the same stage 10 ms later: not written
        "encoding avif",
        "encoding avif",
    ]


class _Steps(ToolSettings):
    steps: int = 5


def slow_tool(on_step) -> Tool:
    """A tool that does `steps` steps, checking for a cancel before each one."""

    def run(inputs, settings, ctx: Context) -> Output:
        for step in range(settings.steps):
            ctx.check_cancelled()
            on_step(step)
            ctx.progress((step + 1) / settings.steps * 100, f"step {step + 1}")
        path = ctx.scratch_path("out.txt")
        path.write_text("done")
        return Output.file(OutputKind.DOCUMENT, path, "out.txt", "test")

    return Tool(
        id="slow-test",
        name="Slow",
        category="test",
        description="Steps with cancellation points.",
        settings=_Steps,
        run=run,
        inputs=Inputs.ONE,
    )


def test_a_running_tool_stops_at_its_next_boundary(user_client, user, monkeypatch, prompt_checks):
    job = with_input(make_job(user, tool_id="slow-test"))
    done: list[int] = []
    answers = []

    def on_step(step: int) -> None:
        done.append(step)
        if step == 1:  # the user cancels while step 1 runs
            answers.append(user_client.post(f"/api/v1/jobs/{job.pk}/cancel"))

    monkeypatch.setitem(registry._tools(), "slow-test", slow_tool(on_step))

    execute.run_job(str(job.pk), 1)

    assert answers[0].status_code == 202 and answers[0].json()["status"] == "cancelling"
    assert done == [0, 1]  # step 2 never started
    job.refresh_from_db()
    assert job.status == "cancelled" and job.message == "cancelled"
    assert job.finished_at is not None and job.result_file == ""
    assert tree(storage.job_dir(job)) == []  # inputs and scratch removed
    assert user_client.get(f"/api/v1/jobs/{job.pk}/download").json()["code"] == "JOB_CANCELLED"


def test_an_uncancelled_tool_runs_all_its_steps(user, monkeypatch, prompt_checks):
    job = with_input(make_job(user, tool_id="slow-test"))
    done: list[int] = []
    monkeypatch.setitem(registry._tools(), "slow-test", slow_tool(done.append))

    execute.run_job(str(job.pk), 1)

    job.refresh_from_db()
    assert done == [0, 1, 2, 3, 4]
    assert job.status == "completed" and job.result_name == "photo_slow-test.txt"
