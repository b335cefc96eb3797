"""Scheduled upkeep: lost jobs are requeued or failed, old results expire, schedules exist.

tests/live/test_jobs_live.py kills a real worker; these tests cover each rule of
apps.jobs.maintenance on rows made to look like what a dead worker leaves.
"""

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from apps.jobs import execute, maintenance, storage
from apps.jobs.models import Job
from tests.api.jobs_support import make_job, tree, with_input, with_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.JOB_STALE_S = 60
    settings.JOB_TIMEOUT_S = 1800
    settings.JOB_MAX_ATTEMPTS = 2
    settings.JOB_RESULT_TTL_HOURS = 24


@pytest.fixture
def sent(monkeypatch) -> list[Job]:
    """What recover_lost_jobs hands to the queue (nothing runs)."""
    tasks: list[Job] = []
    monkeypatch.setattr(maintenance, "enqueue", tasks.append)
    return tasks


def ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def lost(owner, attempts: int = 1, heartbeat_s: float = 120, started_s: float = 130, **fields):
    """A processing job whose worker stopped writing its heartbeat `heartbeat_s` ago."""
    job = make_job(
        owner,
        status=Job.Status.PROCESSING,
        tool_id="resize",
        settings={"width": 24},
        attempts=attempts,
        percent=60,
        heartbeat_at=ago(heartbeat_s),
        started_at=ago(started_s),
        **fields,
    )
    return with_input(job)


def test_a_stale_job_with_attempts_left_is_requeued(user, limits, sent):
    job = lost(user, attempts=1)

    counts = maintenance.recover_lost_jobs()

    assert counts == {"requeued": 1, "lost": 0, "timedOut": 0, "diskFull": 0, "resent": 0}
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 1 and job.percent == 0
    assert "worker was lost" in job.message
    assert [j.pk for j in sent] == [job.pk] and sent[0].attempts == 1  # the task claims 2


def test_a_requeued_job_runs_again_and_completes(user, limits):
    job = lost(user, attempts=1)

    maintenance.recover_lost_jobs()  # django-q's sync mode runs the new task at once

    job.refresh_from_db()
    assert job.status == "completed" and job.attempts == 2
    assert tree(storage.job_dir(job)) == ["out/result.jpg"]


def test_a_stale_job_out_of_attempts_fails_with_worker_lost(user, limits, sent):
    job = lost(user, attempts=2)

    counts = maintenance.recover_lost_jobs()

    assert counts == {"requeued": 0, "lost": 1, "timedOut": 0, "diskFull": 0, "resent": 0}
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "WORKER_LOST"
    assert job.error_status == 500 and job.error_message and job.finished_at is not None
    assert sent == []


def test_a_stale_job_whose_inputs_are_gone_fails_with_worker_lost(user, limits, sent):
    job = lost(user, attempts=1)
    storage.discard_working_files(job)

    maintenance.recover_lost_jobs()

    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "WORKER_LOST" and sent == []


def test_a_job_past_the_timeout_fails_with_job_timeout(user, limits, settings, sent):
    job = lost(user, heartbeat_s=1, started_s=settings.JOB_TIMEOUT_S + 5)  # alive, but too slow

    counts = maintenance.recover_lost_jobs()

    assert counts == {"requeued": 0, "lost": 0, "timedOut": 1, "diskFull": 0, "resent": 0}
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "JOB_TIMEOUT" and job.error_status == 504
    assert str(settings.JOB_TIMEOUT_S) in job.error_message
    assert sent == []


def test_live_queued_and_finished_jobs_are_left_alone(user, limits, sent):
    alive = lost(user, heartbeat_s=5)
    queued = make_job(user, heartbeat_at=ago(3600))
    done = make_job(user, status=Job.Status.COMPLETED, heartbeat_at=ago(3600))

    assert maintenance.recover_lost_jobs() == {
        "requeued": 0,
        "lost": 0,
        "timedOut": 0,
        "diskFull": 0,
        "resent": 0,
    }

    statuses = [Job.objects.get(pk=j.pk).status for j in (alive, queued, done)]
    assert statuses == ["processing", "queued", "completed"]
    assert sent == []


def test_the_task_of_the_dead_worker_cannot_run_the_requeued_job_twice(user, limits, sent):
    """The broker may still redeliver attempt 1 after maintenance requeued attempt 2."""
    job = lost(user, attempts=1)
    maintenance.recover_lost_jobs()

    execute.run_job(str(job.pk), 1)  # the stale delivery
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 1

    execute.run_job(str(job.pk), 2)  # the requeued task
    job.refresh_from_db()
    assert job.status == "completed" and job.attempts == 2


# --- results expire -------------------------------------------------------------------


def test_old_finished_jobs_lose_their_rows_and_folders(user, limits):
    old = with_result(make_job(user, tool_id="resize", finished_at=ago(25 * 3600)))
    old_failed = make_job(user, status=Job.Status.FAILED, finished_at=ago(25 * 3600))
    fresh = with_result(make_job(user, tool_id="resize", finished_at=ago(23 * 3600)))
    waiting = with_input(make_job(user))  # queued for a long time: no finished_at
    Job.objects.filter(pk=waiting.pk).update(created_at=ago(48 * 3600))

    assert maintenance.expire_results() == 2

    assert set(Job.objects.values_list("pk", flat=True)) == {fresh.pk, waiting.pk}
    assert not storage.job_dir(old).exists() and not storage.job_dir(old_failed).exists()
    assert tree(storage.job_dir(fresh)) == ["out/result.jpg"]
    assert tree(storage.job_dir(waiting)) == ["in/0"]


def test_orphan_job_folders_and_old_temp_files_are_removed(user, settings, limits):
    jobs_root = settings.DATA_DIR / "jobs"
    old_orphan, young_orphan = jobs_root / "not-a-job", jobs_root / "being-created"
    old_temp, young_temp = settings.TMP_DIR / "upload1.tmp", settings.TMP_DIR / "upload2.tmp"
    for folder in (old_orphan, young_orphan):
        folder.mkdir(parents=True)
        (folder / "x").write_bytes(b"x")
    old_temp.write_bytes(b"x")
    young_temp.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for path in (old_orphan, old_temp):
        os.utime(path, (two_hours_ago, two_hours_ago))
    kept = with_result(make_job(user, tool_id="resize"))
    os.utime(storage.job_dir(kept), (two_hours_ago, two_hours_ago))

    maintenance.housekeeping()

    assert not old_orphan.exists() and not old_temp.exists()
    assert young_orphan.exists() and young_temp.exists()
    assert tree(storage.job_dir(kept)) == ["out/result.jpg"]


# --- the schedules --------------------------------------------------------------------


def test_migrations_schedule_recovery_every_minute_and_housekeeping_hourly():
    schedules = {
        s.name: s for s in Schedule.objects.filter(name__in=["recover lost jobs", "housekeeping"])
    }

    recover, housekeeping = schedules["recover lost jobs"], schedules["housekeeping"]
    assert recover.func == "apps.jobs.maintenance.recover_lost_jobs"
    assert (recover.schedule_type, recover.minutes, recover.repeats) == ("I", 1, -1)
    assert housekeeping.func == "apps.jobs.maintenance.housekeeping"
    assert (housekeeping.schedule_type, housekeeping.minutes, housekeeping.repeats) == ("I", 60, -1)


def test_queued_jobs_an_idle_worker_never_got_are_sent_again(user, limits, sent):
    """Their broker message was lost (say Redis restarted empty): an idle cluster would
    otherwise leave them queued forever. Sending twice is safe: a job is claimed once."""
    forgotten = make_job(user, tool_id="resize")
    Job.objects.filter(pk=forgotten.pk).update(created_at=ago(300))
    fresh = make_job(user, tool_id="resize")

    counts = maintenance.recover_lost_jobs()

    assert counts["resent"] == 1
    assert [job.pk for job in sent] == [forgotten.pk]
    assert Job.objects.get(pk=fresh.pk).status == Job.Status.QUEUED


def test_queued_jobs_wait_their_turn_while_the_worker_is_busy(user, limits, sent):
    make_job(user, status=Job.Status.PROCESSING, heartbeat_at=ago(1), started_at=ago(10))
    waiting = make_job(user, tool_id="resize")
    Job.objects.filter(pk=waiting.pk).update(created_at=ago(300))

    assert maintenance.recover_lost_jobs()["resent"] == 0
    assert sent == []
